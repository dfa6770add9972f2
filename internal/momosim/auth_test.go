package momosim

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const invalidKeyMessage = "Access denied due to invalid subscription key. " +
	"Make sure to provide a valid key for an active subscription."

func TestToken_IssuedForEachProduct(t *testing.T) {
	e := newEnv(t, Config{})
	for _, product := range []string{ProductDisbursement, ProductRemittance} {
		a := e.do(http.MethodPost, "/"+product+"/token/", tokenHeaders(product), "")

		require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
		m := a.json(t)
		assert.NotEmpty(t, m["access_token"])
		assert.Equal(t, "access_token", m["token_type"])
		assert.Equal(t, float64(3600), m["expires_in"])
	}
	assert.Equal(t, 2, e.sim.Stats().TokensIssued)
}

func TestToken_TokensAreDistinct(t *testing.T) {
	e := newEnv(t, Config{})
	assert.NotEqual(t, e.token(ProductDisbursement), e.token(ProductDisbursement))
}

func TestToken_RefusesBadSubscriptionKeys(t *testing.T) {
	e := newEnv(t, Config{})
	cases := map[string]string{
		"wrong key":             "not-a-key",
		"other product's key":   DefaultRemittanceKey,
		"secondary-looking key": DefaultDisbursementKey + "x",
	}
	for name, key := range cases {
		t.Run(name, func(t *testing.T) {
			h := tokenHeaders(ProductDisbursement)
			h["Ocp-Apim-Subscription-Key"] = key
			a := e.do(http.MethodPost, "/disbursement/token/", h, "")

			require.Equal(t, http.StatusUnauthorized, a.status)
			assert.JSONEq(t, `{"statusCode":401,"message":"`+invalidKeyMessage+`"}`, string(a.body))
		})
	}
}

func TestToken_RefusesMissingSubscriptionKey(t *testing.T) {
	e := newEnv(t, Config{})
	h := tokenHeaders(ProductRemittance)
	delete(h, "Ocp-Apim-Subscription-Key")
	a := e.do(http.MethodPost, "/remittance/token/", h, "")

	require.Equal(t, http.StatusUnauthorized, a.status)
	m := a.json(t)
	assert.Equal(t, float64(401), m["statusCode"])
	assert.Contains(t, m["message"], "missing subscription key")
}

func TestToken_RefusesWrongBasicAuth(t *testing.T) {
	e := newEnv(t, Config{})
	cases := map[string]string{
		"wrong key":     basic(DefaultAPIUser, "wrong"),
		"unknown user":  basic(uuid.NewString(), DefaultAPIKey),
		"no basic auth": "",
		"bearer":        "Bearer abc",
	}
	for name, auth := range cases {
		t.Run(name, func(t *testing.T) {
			h := tokenHeaders(ProductDisbursement)
			h["Authorization"] = auth
			a := e.do(http.MethodPost, "/disbursement/token/", h, "")

			require.Equal(t, http.StatusUnauthorized, a.status)
			assert.JSONEq(t, `{"error":"invalid_client"}`, string(a.body))
		})
	}
	assert.Zero(t, e.sim.Stats().TokensIssued)
}

func TestToken_RefusesRequestBody(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.do(http.MethodPost, "/disbursement/token/", tokenHeaders(ProductDisbursement),
		"grant_type=client_credentials")

	require.Equal(t, http.StatusBadRequest, a.status)
	assert.NotEmpty(t, a.json(t)["error"])
	assert.Zero(t, e.sim.Stats().TokensIssued)
}

func TestToken_PathNeedsTrailingSlash(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.do(http.MethodPost, "/disbursement/token", tokenHeaders(ProductDisbursement), "")
	assert.Equal(t, http.StatusNotFound, a.status)
}

func TestToken_ExpiresAfterTTL(t *testing.T) {
	e := newEnv(t, Config{TokenTTL: 10 * time.Minute})
	a := e.do(http.MethodPost, "/disbursement/token/", tokenHeaders(ProductDisbursement), "")
	require.Equal(t, float64(600), a.json(t)["expires_in"])
	tok := a.json(t)["access_token"].(string)
	balance := func() answer {
		return e.do(http.MethodGet, "/disbursement/v1_0/account/balance",
			callHeaders(ProductDisbursement, tok), "")
	}

	e.clock.Advance(10*time.Minute - time.Second)
	require.Equal(t, http.StatusOK, balance().status)

	e.clock.Advance(time.Second)
	a = balance()
	requireError(t, a, http.StatusUnauthorized, "UNAUTHORIZED")
	assert.Contains(t, a.json(t)["message"], "expired")
}

func TestToken_IsScopedToItsProduct(t *testing.T) {
	e := newEnv(t, Config{})
	tok := e.token(ProductDisbursement)
	h := postHeaders(ProductRemittance, tok, uuid.NewString())
	a := e.do(http.MethodPost, "/remittance/v1_0/transfer", h, transferJSON("46733123499", "x", "1"))

	requireError(t, a, http.StatusUnauthorized, "UNAUTHORIZED")
	assert.Empty(t, e.sim.Transfers())
}

func TestToken_ProductCallsRefuseMissingOrUnknownTokens(t *testing.T) {
	e := newEnv(t, Config{})
	for name, auth := range map[string]string{"missing": "", "unknown": "Bearer nope"} {
		t.Run(name, func(t *testing.T) {
			h := callHeaders(ProductDisbursement, "")
			h["Authorization"] = auth
			a := e.do(http.MethodGet, "/disbursement/v1_0/transfer/"+uuid.NewString(), h, "")
			requireError(t, a, http.StatusUnauthorized, "UNAUTHORIZED")
		})
	}
}

func TestToken_SecretsNeverEchoed(t *testing.T) {
	e := newEnv(t, Config{})
	h := tokenHeaders(ProductDisbursement)
	h["Ocp-Apim-Subscription-Key"] = "leaky-secret-key"
	h["Authorization"] = basic(DefaultAPIUser, "leaky-secret-api-key")
	a := e.do(http.MethodPost, "/disbursement/token/", h, "")
	assert.NotContains(t, string(a.body), "leaky")

	h = tokenHeaders(ProductDisbursement)
	h["Authorization"] = basic(DefaultAPIUser, "leaky-secret-api-key")
	a = e.do(http.MethodPost, "/disbursement/token/", h, "")
	assert.NotContains(t, string(a.body), "leaky")
}

func TestToken_RefusesChunkedBody(t *testing.T) {
	e := newEnv(t, Config{})
	req, err := http.NewRequest(http.MethodPost, e.url+"/disbursement/token/",
		io.NopCloser(strings.NewReader("x"))) // unknown length: sent chunked
	require.NoError(t, err)
	for k, v := range tokenHeaders(ProductDisbursement) {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestToken_ExpiredTokensAreForgotten(t *testing.T) {
	clock := newFakeClock()
	sim := New(Config{TokenTTL: time.Second, Now: clock.Now})
	sim.mu.Lock()
	defer sim.mu.Unlock()
	for range 1024 {
		status, _ := sim.tokenLocked(ProductDisbursement, DefaultAPIUser, DefaultAPIKey, true)
		require.Equal(t, http.StatusOK, status)
	}
	clock.Advance(time.Second)
	sim.tokenLocked(ProductDisbursement, DefaultAPIUser, DefaultAPIKey, true)
	assert.Len(t, sim.tokens, 1)
}
