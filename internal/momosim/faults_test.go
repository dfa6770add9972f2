package momosim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postRef posts a valid transfer under ref with a fresh token.
func (e *env) postRef(ref string) answer {
	e.t.Helper()
	return e.do(http.MethodPost, "/disbursement/v1_0/transfer",
		postHeaders(ProductDisbursement, e.token(ProductDisbursement), ref),
		transferJSON("46733123499", "x", "1"))
}

func TestFault_PostFailBeforeCreatesNothing(t *testing.T) {
	e := newEnv(t, Config{})
	ref := uuid.NewString()
	e.sim.InjectNext(FaultPostFailBefore, 2)

	requireError(t, e.postRef(ref), http.StatusInternalServerError, "INTERNAL_PROCESSING_ERROR")
	requireError(t, e.postRef(ref), http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	assert.Empty(t, e.sim.Transfers())
	assert.Equal(t, http.StatusNotFound, e.get(ProductDisbursement, ref).status)

	// The same reference ID is then free to go through.
	assert.Equal(t, http.StatusAccepted, e.postRef(ref).status)
	assert.Equal(t, 2, e.sim.Stats().FaultsInjected)
}

func TestFault_PostDropAfterClosesConnectionButCreates(t *testing.T) {
	e := newEnv(t, Config{})
	ref := uuid.NewString()
	e.sim.InjectNext(FaultPostDropAfter, 1)

	tok := e.token(ProductDisbursement)
	resp, err := e.send(http.MethodPost, "/disbursement/v1_0/transfer",
		postHeaders(ProductDisbursement, tok, ref), transferJSON("46733123499", "x", "1"))
	if resp != nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the connection must close without an answer")

	assert.Len(t, e.sim.Transfers(), 1)
	assert.Equal(t, http.StatusOK, e.get(ProductDisbursement, ref).status)
	assert.Equal(t, http.StatusConflict, e.postRef(ref).status)
}

func TestFault_Post500AfterCreates(t *testing.T) {
	e := newEnv(t, Config{})
	ref := uuid.NewString()
	e.sim.InjectNext(FaultPost500After, 1)

	requireError(t, e.postRef(ref), http.StatusInternalServerError, "INTERNAL_PROCESSING_ERROR")
	assert.Equal(t, http.StatusOK, e.get(ProductDisbursement, ref).status)
	assert.Equal(t, http.StatusConflict, e.postRef(ref).status)
	assert.Equal(t, 1, e.sim.Stats().TransfersCreated)
}

func TestFault_StatusFailAnswers500Then503(t *testing.T) {
	e := newEnv(t, Config{})
	ref := e.mustPost(ProductDisbursement, "46733123499", "x", "1")
	e.sim.InjectNext(FaultStatusFail, 2)

	first, second := e.get(ProductDisbursement, ref), e.get(ProductDisbursement, ref)
	requireError(t, first, http.StatusInternalServerError, "INTERNAL_PROCESSING_ERROR")
	requireError(t, second, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	assert.NotContains(t, first.json(t), "status")
	assert.Equal(t, http.StatusOK, e.get(ProductDisbursement, ref).status)
}

func TestFault_TooManyRequestsHasNoEffect(t *testing.T) {
	e := newEnv(t, Config{})
	e.sim.InjectNext(FaultTooManyRequests, 1)

	tokenAnswer := e.do(http.MethodPost, "/disbursement/token/", tokenHeaders(ProductDisbursement), "")
	require.Equal(t, http.StatusTooManyRequests, tokenAnswer.status)
	assert.Equal(t, "1", tokenAnswer.header.Get("Retry-After"))
	assert.Zero(t, e.sim.Stats().TokensIssued)

	tok := e.token(ProductDisbursement)
	ref := uuid.NewString()
	e.sim.InjectNext(FaultTooManyRequests, 1)
	a := e.do(http.MethodPost, "/disbursement/v1_0/transfer",
		postHeaders(ProductDisbursement, tok, ref), transferJSON("46733123499", "x", "1"))
	require.Equal(t, http.StatusTooManyRequests, a.status)
	assert.Equal(t, "1", a.header.Get("Retry-After"))
	assert.Empty(t, e.sim.Transfers())

	assert.Equal(t, http.StatusAccepted, e.postRef(ref).status)
}

func TestFault_Token401RevokesTheToken(t *testing.T) {
	e := newEnv(t, Config{})
	ref := e.mustPost(ProductDisbursement, "46733123499", "x", "1")
	tok := e.token(ProductDisbursement)
	e.sim.InjectNext(FaultToken401, 1)
	get := func(tok string) answer {
		return e.do(http.MethodGet, "/disbursement/v1_0/transfer/"+ref,
			callHeaders(ProductDisbursement, tok), "")
	}

	requireError(t, get(tok), http.StatusUnauthorized, "UNAUTHORIZED")
	requireError(t, get(tok), http.StatusUnauthorized, "UNAUTHORIZED")
	assert.Equal(t, http.StatusOK, get(e.token(ProductDisbursement)).status)
}

func TestFault_TokenLoginFailed(t *testing.T) {
	e := newEnv(t, Config{})
	e.sim.InjectNext(FaultTokenLoginFailed, 1)

	a := e.do(http.MethodPost, "/remittance/token/", tokenHeaders(ProductRemittance), "")
	require.Equal(t, http.StatusInternalServerError, a.status)
	assert.JSONEq(t, `{"error":"login_failed"}`, string(a.body))
	assert.NotEmpty(t, e.token(ProductRemittance))
}

func TestFault_Post404VisibleLate(t *testing.T) {
	e := newEnv(t, Config{})
	e.sim.InjectNext(FaultPost404VisibleLate, 2)
	ref := e.mustPost(ProductDisbursement, "46733123499", "x", "1")
	other := e.mustPost(ProductDisbursement, "46733123499", "y", "1")

	requireError(t, e.get(ProductDisbursement, ref), http.StatusNotFound, "RESOURCE_NOT_FOUND")
	requireError(t, e.get(ProductDisbursement, ref), http.StatusNotFound, "RESOURCE_NOT_FOUND")
	assert.Equal(t, http.StatusOK, e.get(ProductDisbursement, ref).status)
	assert.Equal(t, http.StatusOK, e.get(ProductDisbursement, other).status, "only the next POST hides")
	assert.Equal(t, http.StatusConflict, e.postRef(ref).status)
}

func TestFault_ProbabilitiesApplyAndCanBeSwitchedOff(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{StatusFail: 1}})
	ref := e.mustPost(ProductDisbursement, "46733123499", "x", "1")
	for range 3 {
		assert.GreaterOrEqual(t, e.get(ProductDisbursement, ref).status, 500)
	}

	e.sim.SetFaults(Faults{})
	assert.Equal(t, http.StatusOK, e.get(ProductDisbursement, ref).status)
	assert.Equal(t, 3, e.sim.Stats().FaultsInjected)
}

func TestFault_PartialProbabilityHitsSomeRequests(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{PostFailBefore: 0.5}, Seed: 7})
	tok := e.token(ProductDisbursement)
	failed := 0
	const n = 200
	for range n {
		a := e.do(http.MethodPost, "/disbursement/v1_0/transfer",
			postHeaders(ProductDisbursement, tok, uuid.NewString()), transferJSON("46733123499", "x", "1"))
		if a.status >= 500 {
			failed++
		}
	}
	assert.InDelta(t, n/2, failed, n/5)
	assert.Equal(t, n-failed, e.sim.Stats().TransfersCreated)
	assert.Equal(t, failed, e.sim.Stats().FaultsInjected)
}

func TestFault_SlowDelaysAnswers(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{SlowFor: 80 * time.Millisecond, SlowRate: 1}})
	start := time.Now()
	e.do(http.MethodPost, "/disbursement/token/", tokenHeaders(ProductDisbursement), "")
	assert.GreaterOrEqual(t, time.Since(start), 80*time.Millisecond)
}

func TestLatency_AddedToEveryMoMoAnswer(t *testing.T) {
	e := newEnv(t, Config{Latency: 60 * time.Millisecond})
	start := time.Now()
	e.do(http.MethodGet, "/v1_0/apiuser/"+DefaultAPIUser,
		map[string]string{"Ocp-Apim-Subscription-Key": DefaultDisbursementKey}, "")
	assert.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond)

	start = time.Now()
	e.do(http.MethodGet, "/_sim/stats", nil, "")
	assert.Less(t, time.Since(start), 60*time.Millisecond, "admin answers take no latency")
}

func TestInjectNext_UnknownKindPanics(t *testing.T) {
	sim := New(Config{})
	assert.Panics(t, func() { sim.InjectNext("post-everything", 1) })
}

func TestInjectNext_NonPositiveCancels(t *testing.T) {
	e := newEnv(t, Config{})
	e.sim.InjectNext(FaultPostFailBefore, 3)
	e.sim.InjectNext(FaultPostFailBefore, 0)
	assert.Equal(t, http.StatusAccepted, e.postRef(uuid.NewString()).status)
}

func TestFaults_JSONTakesDurationStrings(t *testing.T) {
	var f Faults
	require.NoError(t, json.Unmarshal([]byte(`{"statusFail":0.25,"slowFor":"250ms","SlowRate":0.5}`), &f))
	assert.Equal(t, Faults{StatusFail: 0.25, SlowFor: 250 * time.Millisecond, SlowRate: 0.5}, f)

	require.NoError(t, json.Unmarshal([]byte(`{"slowFor":1000000}`), &f))
	assert.Equal(t, time.Millisecond, f.SlowFor)
	assert.Error(t, json.Unmarshal([]byte(`{"slowFor":"soon"}`), &f))

	b, err := json.Marshal(Faults{PostDropAfter: 0.1, SlowFor: 2 * time.Second})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"slowFor":"2s"`)
	assert.Contains(t, string(b), `"postDropAfter":0.1`)
}

func TestFaults_ValidateRefusesOutOfRange(t *testing.T) {
	assert.NoError(t, Faults{PostFailBefore: 1, SlowRate: 0}.Validate())
	assert.Error(t, Faults{PostFailBefore: 1.5}.Validate())
	assert.Error(t, Faults{TooManyRequests: -0.1}.Validate())
	assert.Error(t, Faults{SlowFor: -time.Second}.Validate())
	assert.Equal(t, Faults{StatusFail: 1}, Faults{StatusFail: 3, SlowFor: -1}.clamped())
}
