package momosim

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a simulator behind a real HTTP server.
type env struct {
	t     *testing.T
	sim   *Server
	url   string
	clock *fakeClock
	http  *http.Client
}

// newEnv starts a simulator for cfg; unless cfg sets a clock it runs on a fake one.
func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	clock := newFakeClock()
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	sim := New(cfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return &env{t: t, sim: sim, url: srv.URL, clock: clock, http: srv.Client()}
}

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the answer's body into a generic map.
func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.body, &m), "body: %s", a.body)
	return m
}

// do sends a request and reads the whole answer.
func (e *env) do(method, path string, headers map[string]string, body string) answer {
	e.t.Helper()
	resp, err := e.send(method, path, headers, body)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// send sends a request and returns the raw response or transport error.
func (e *env) send(method, path string, headers map[string]string, body string) (*http.Response, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	require.NoError(e.t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return e.http.Do(req)
}

// productKey returns the default subscription key of product.
func productKey(product string) string {
	if product == ProductRemittance {
		return DefaultRemittanceKey
	}
	return DefaultDisbursementKey
}

// basic returns a Basic Authorization header value.
func basic(user, key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+key))
}

// tokenHeaders are the headers of a valid token request.
func tokenHeaders(product string) map[string]string {
	return map[string]string{
		"Authorization":             basic(DefaultAPIUser, DefaultAPIKey),
		"Ocp-Apim-Subscription-Key": productKey(product),
	}
}

// token fetches a fresh access token for product.
func (e *env) token(product string) string {
	e.t.Helper()
	a := e.do(http.MethodPost, "/"+product+"/token/", tokenHeaders(product), "")
	require.Equal(e.t, http.StatusOK, a.status, "token: %s", a.body)
	tok, _ := a.json(e.t)["access_token"].(string)
	require.NotEmpty(e.t, tok)
	return tok
}

// callHeaders are the headers of a valid product call with token.
func callHeaders(product, token string) map[string]string {
	return map[string]string{
		"Authorization":             "Bearer " + token,
		"Ocp-Apim-Subscription-Key": productKey(product),
		"X-Target-Environment":      "sandbox",
	}
}

// postHeaders are the headers of a valid transfer POST.
func postHeaders(product, token, ref string) map[string]string {
	h := callHeaders(product, token)
	h["X-Reference-Id"] = ref
	h["Content-Type"] = "application/json"
	return h
}

// transferJSON is a valid transfer body.
func transferJSON(partyID, externalID, amount string) string {
	b, _ := json.Marshal(map[string]any{
		"amount":       amount,
		"currency":     "EUR",
		"externalId":   externalID,
		"payee":        map[string]string{"partyIdType": "MSISDN", "partyId": partyID},
		"payerMessage": "December salary",
		"payeeNote":    "Thank you",
	})
	return string(b)
}

// post creates a transfer with a fresh token and returns its reference ID and answer.
func (e *env) post(product, partyID, externalID, amount string) (string, answer) {
	e.t.Helper()
	ref := uuid.NewString()
	a := e.do(http.MethodPost, "/"+product+"/v1_0/transfer",
		postHeaders(product, e.token(product), ref), transferJSON(partyID, externalID, amount))
	return ref, a
}

// mustPost creates a transfer and requires 202.
func (e *env) mustPost(product, partyID, externalID, amount string) string {
	e.t.Helper()
	ref, a := e.post(product, partyID, externalID, amount)
	require.Equal(e.t, http.StatusAccepted, a.status, "post: %s", a.body)
	return ref
}

// get asks for a transfer's status.
func (e *env) get(product, ref string) answer {
	e.t.Helper()
	return e.do(http.MethodGet, "/"+product+"/v1_0/transfer/"+ref,
		callHeaders(product, e.token(product)), "")
}

// reasonCode reads a status's reason in either form MoMo uses.
func reasonCode(t *testing.T, status map[string]any) string {
	t.Helper()
	switch r := status["reason"].(type) {
	case nil:
		return ""
	case string:
		return r
	case map[string]any:
		code, _ := r["code"].(string)
		require.NotEmpty(t, r["message"])
		return code
	default:
		t.Fatalf("reason has unexpected form %T", r)
		return ""
	}
}

// requireError checks a {"code","message"} error answer.
func requireError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	require.Equal(t, status, a.status, "body: %s", a.body)
	m := a.json(t)
	require.Equal(t, code, m["code"], "body: %s", a.body)
	require.NotEmpty(t, m["message"])
}
