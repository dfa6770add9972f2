package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/httpapi"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/stack"
	"github.com/momopay/payout/internal/testutil"
)

// readyz is /readyz's body.
type readyz struct {
	Status string            `json:"status"`
	Failed []string          `json:"failed"`
	Checks map[string]string `json:"checks"`
}

// probe serves a monitor with checks and returns /readyz's status and body.
func probe(t *testing.T, checks ...httpapi.Check) (int, readyz, string) {
	t.Helper()
	srv, _ := monitor(t, httpapi.MonitorConfig{Checks: checks, Log: zerolog.Nop()})
	status, body := get(t, srv.URL+"/readyz", "", "")
	var r readyz
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	return status, r, body
}

// simClient returns a MoMo client for a simulator over HTTP whose API key is apiKey.
func simClient(t *testing.T, apiKey string) *momo.Client {
	t.Helper()
	sim := momosim.New(momosim.Config{APIKey: apiKey})
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	client, err := momo.New(stack.MoMoConfig(srv.URL))
	require.NoError(t, err)
	return client
}

func TestReadyz_ReadyWhenRedisAndTokensWork(t *testing.T) {
	client := simClient(t, "")
	rdb := redis.NewClient(&redis.Options{Addr: testutil.RedisAddr(), DB: redisDB})
	defer rdb.Close()

	status, r, _ := probe(t, httpapi.RedisCheck(rdb),
		httpapi.TokenCheck(client, momo.Disbursement), httpapi.TokenCheck(client, momo.Remittance))

	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, readyz{Status: "ready", Checks: map[string]string{
		"redis": "ok", "momo_token_disbursement": "ok", "momo_token_remittance": "ok"}}, r)
}

func TestReadyz_NamesWhatFailedWithoutSecrets(t *testing.T) {
	client := simClient(t, "the-key-momo-expects") // the client sends momosim.DefaultAPIKey
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond,
		MaxRetries: -1})
	defer dead.Close()

	status, r, body := probe(t, httpapi.RedisCheck(dead), httpapi.TokenCheck(client, momo.Disbursement))

	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "not ready", r.Status)
	assert.ElementsMatch(t, []string{"redis", "momo_token_disbursement"}, r.Failed)
	assert.Contains(t, r.Checks["momo_token_disbursement"], "MoMo answered HTTP 401")
	assert.Equal(t, "failed; see the worker's log", r.Checks["redis"])
	for _, secret := range []string{momosim.DefaultAPIKey, momosim.DefaultDisbursementKey,
		momosim.DefaultRemittanceKey, "the-key-momo-expects", momosim.DefaultAPIUser} {
		assert.NotContains(t, body, secret)
	}
}

func TestHealthz_AnswersWhileTheProcessRuns(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer dead.Close()
	srv, _ := monitor(t, httpapi.MonitorConfig{Checks: []httpapi.Check{httpapi.RedisCheck(dead)}})

	status, body := get(t, srv.URL+"/healthz", "", "")

	assert.Equal(t, http.StatusOK, status, "liveness does not depend on Redis or MoMo")
	assert.JSONEq(t, `{"status":"ok"}`, body)
}
