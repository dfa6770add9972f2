package momosim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdmin_TransfersAndStats(t *testing.T) {
	e := newEnv(t, Config{})
	empty := e.do(http.MethodGet, "/_sim/transfers", nil, "")
	require.Equal(t, http.StatusOK, empty.status)
	assert.JSONEq(t, `[]`, string(empty.body))

	ref := e.mustPost(ProductDisbursement, "46733123499", "payroll-1", "15")
	e.mustPost(ProductDisbursement, "46733123499", "payroll-1", "15")

	var transfers []Transfer
	require.NoError(t, json.Unmarshal(e.do(http.MethodGet, "/_sim/transfers", nil, "").body, &transfers))
	require.Len(t, transfers, 2)
	assert.Equal(t, ref, transfers[0].ReferenceID)
	assert.Equal(t, StatusSuccessful, transfers[0].Status)
	assert.True(t, transfers[0].CreatedAt.Equal(e.clock.Now()))

	statsAnswer := e.do(http.MethodGet, "/_sim/stats", nil, "")
	var stats Stats
	require.NoError(t, json.Unmarshal(statsAnswer.body, &stats))
	assert.Equal(t, Stats{TokensIssued: 2, TransfersCreated: 2, PaidTwice: 1}, stats)
	assert.Contains(t, string(statsAnswer.body), `"paidTwice":1`)
}

func TestAdmin_PutFaults(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.do(http.MethodPut, "/_sim/faults", nil, `{"tooManyRequests":1,"slowFor":"1ms"}`)
	require.Equal(t, http.StatusNoContent, a.status, "body: %s", a.body)

	got := e.do(http.MethodGet, "/_sim/faults", nil, "")
	var f Faults
	require.NoError(t, json.Unmarshal(got.body, &f))
	assert.Equal(t, 1.0, f.TooManyRequests)
	tok := e.do(http.MethodPost, "/disbursement/token/", tokenHeaders(ProductDisbursement), "")
	assert.Equal(t, http.StatusTooManyRequests, tok.status)

	assert.Equal(t, http.StatusBadRequest, e.do(http.MethodPut, "/_sim/faults", nil, `{"statusFail":2}`).status)
	assert.Equal(t, http.StatusBadRequest, e.do(http.MethodPut, "/_sim/faults", nil, `nope`).status)
}

func TestAdmin_Inject(t *testing.T) {
	e := newEnv(t, Config{})
	require.Equal(t, http.StatusNoContent, e.do(http.MethodPost, "/_sim/inject?kind=429&n=2", nil, "").status)
	for range 2 {
		a := e.do(http.MethodPost, "/disbursement/token/", tokenHeaders(ProductDisbursement), "")
		assert.Equal(t, http.StatusTooManyRequests, a.status)
	}
	assert.NotEmpty(t, e.token(ProductDisbursement))

	require.Equal(t, http.StatusNoContent,
		e.do(http.MethodPost, "/_sim/inject?kind=token-login-failed", nil, "").status, "n defaults to 1")
	assert.Equal(t, http.StatusInternalServerError,
		e.do(http.MethodPost, "/disbursement/token/", tokenHeaders(ProductDisbursement), "").status)

	assert.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/_sim/inject?kind=boom&n=1", nil, "").status)
	assert.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/_sim/inject?kind=429&n=x", nil, "").status)
}

func TestAdmin_PutBalance(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.do(http.MethodPut, "/_sim/balance?product=remittance&amount=12.34", nil, "")
	require.Equal(t, http.StatusNoContent, a.status, "body: %s", a.body)
	assert.Equal(t, "12.34", e.balance(ProductRemittance)["availableBalance"])

	assert.Equal(t, http.StatusBadRequest,
		e.do(http.MethodPut, "/_sim/balance?product=collection&amount=1", nil, "").status)
	assert.Equal(t, http.StatusBadRequest,
		e.do(http.MethodPut, "/_sim/balance?product=remittance&amount=-1", nil, "").status)
}

func TestAdmin_PutTokenTTL(t *testing.T) {
	e := newEnv(t, Config{})
	require.Equal(t, http.StatusNoContent, e.do(http.MethodPut, "/_sim/token-ttl?d=3s", nil, "").status)

	a := e.do(http.MethodPost, "/disbursement/token/", tokenHeaders(ProductDisbursement), "")
	assert.Equal(t, float64(3), a.json(t)["expires_in"])
	assert.Equal(t, http.StatusBadRequest, e.do(http.MethodPut, "/_sim/token-ttl?d=soon", nil, "").status)
	assert.Equal(t, http.StatusBadRequest, e.do(http.MethodPut, "/_sim/token-ttl?d=0s", nil, "").status)
}

func TestSetTokenTTL_ShortTokensExpire(t *testing.T) {
	e := newEnv(t, Config{})
	e.sim.SetTokenTTL(1500 * time.Millisecond)
	a := e.do(http.MethodPost, "/disbursement/token/", tokenHeaders(ProductDisbursement), "")
	assert.Equal(t, float64(2), a.json(t)["expires_in"], "rounded up to whole seconds")
	tok := a.json(t)["access_token"].(string)

	e.clock.Advance(1500 * time.Millisecond)
	a = e.do(http.MethodGet, "/disbursement/v1_0/account/balance", callHeaders(ProductDisbursement, tok), "")
	assert.Equal(t, http.StatusUnauthorized, a.status)
}
