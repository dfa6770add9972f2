package momo

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Test credentials. They are long enough to be scrubbed, and distinct so that a leak of any
// one of them is caught.
const (
	testAPIUser    = "0b7c6a52-1f3e-4c2a-9d8e-5f4a3b2c1d0e"
	testAPIKey     = "apikey-secret-7f3e9a1b2c4d"
	testDisbKey    = "disb-subkey-secret-11aa22bb"
	testRemitKey   = "remit-subkey-secret-33cc44dd"
	testEnv        = "sandbox"
	testRef        = "6f1c8a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
	testCallback   = "https://payout.example.com/momo/callback"
	testTokenHours = 3600
)

// fixture is a client talking to an httptest server whose routes each test adds.
type fixture struct {
	t      *testing.T
	mux    *http.ServeMux
	server *httptest.Server
	client *Client
	obs    *recorder
}

// setup starts a server and a client for it; mutate adjusts the client's Config.
func setup(t *testing.T, mutate ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, mux: http.NewServeMux(), obs: &recorder{}}
	f.server = httptest.NewServer(f.mux)
	t.Cleanup(f.server.Close)

	cfg := Config{
		BaseURL:           f.server.URL + "/",
		TargetEnvironment: testEnv,
		APIUser:           testAPIUser,
		APIKey:            testAPIKey,
		SubscriptionKeys:  map[Product]string{Disbursement: testDisbKey, Remittance: testRemitKey},
		Observer:          f.obs,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	f.client = c
	return f
}

func keyFor(p Product) string {
	if p == Remittance {
		return testRemitKey
	}
	return testDisbKey
}

func tokenValue(p Product, n int32) string {
	return fmt.Sprintf("jwt-%s-%d-abcdefgh", p, n)
}

// tokenReply writes a token response; a test may replace it to fail or shorten tokens.
type tokenReply func(w http.ResponseWriter, p Product, n int32)

func defaultToken(w http.ResponseWriter, p Product, n int32) {
	writeJSON(w, http.StatusOK, fmt.Sprintf(
		`{"access_token":%q,"token_type":"access_token","expires_in":%d}`,
		tokenValue(p, n), testTokenHours))
}

// serveToken serves p's token endpoint, checks every request as MoMo would, and counts them.
func (f *fixture) serveToken(p Product, reply tokenReply) *atomic.Int32 {
	if reply == nil {
		reply = defaultToken
	}
	calls := &atomic.Int32{}
	f.mux.HandleFunc("/"+string(p)+"/token/", func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		checkTokenRequest(f.t, r, p)
		reply(w, p, n)
	})
	return calls
}

func checkTokenRequest(t *testing.T, r *http.Request, p Product) {
	basic := base64.StdEncoding.EncodeToString([]byte(testAPIUser + ":" + testAPIKey))
	body, err := io.ReadAll(r.Body)
	assert.NoError(t, err)
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/"+string(p)+"/token/", r.URL.Path)
	assert.Equal(t, "Basic "+basic, r.Header.Get("Authorization"))
	assert.Equal(t, keyFor(p), r.Header.Get("Ocp-Apim-Subscription-Key"))
	assert.Zero(t, r.ContentLength, "a token request must have no body")
	assert.Empty(t, r.TransferEncoding)
	assert.Empty(t, body)
}

// checkAPIHeaders checks the headers every token-authenticated call carries.
func checkAPIHeaders(t *testing.T, r *http.Request, p Product, token string) {
	assert.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))
	assert.Equal(t, testEnv, r.Header.Get("X-Target-Environment"))
	assert.Equal(t, keyFor(p), r.Header.Get("Ocp-Apim-Subscription-Key"))
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// recorder is an Observer that keeps what it saw.
type recorder struct {
	mu       sync.Mutex
	calls    []observedCall
	refreshs []error
}

type observedCall struct {
	product  Product
	endpoint string
	status   int
}

func (r *recorder) ObserveCall(p Product, endpoint string, status int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, observedCall{p, endpoint, status})
}

func (r *recorder) ObserveTokenRefresh(_ Product, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshs = append(r.refreshs, err)
}

func (r *recorder) snapshot() ([]observedCall, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]observedCall(nil), r.calls...), append([]error(nil), r.refreshs...)
}

// sampleTransfer is a valid transfer request.
func sampleTransfer() TransferRequest {
	return TransferRequest{
		Amount:       "1500",
		Currency:     "EUR",
		ExternalID:   "payroll-7-0001",
		Payee:        Party{PartyIDType: "MSISDN", PartyID: "46733123450"},
		PayerMessage: "December salary",
		PayeeNote:    "Thank you",
	}
}
