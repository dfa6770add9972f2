package momosim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// receiver records the callbacks it gets.
type receiver struct {
	mu      sync.Mutex
	methods []string
	bodies  []map[string]any
	url     string
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		rc.mu.Lock()
		rc.methods = append(rc.methods, r.Method)
		rc.bodies = append(rc.bodies, m)
		rc.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL + "/momo/callback"
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.bodies)
}

// postWithCallback creates a transfer that names callback.
func (e *env) postWithCallback(partyID, callback string) string {
	e.t.Helper()
	ref := uuid.NewString()
	h := postHeaders(ProductDisbursement, e.token(ProductDisbursement), ref)
	h["X-Callback-Url"] = callback
	a := e.do(http.MethodPost, "/disbursement/v1_0/transfer", h, transferJSON(partyID, "cb", "1"))
	require.Equal(e.t, http.StatusAccepted, a.status, "body: %s", a.body)
	return ref
}

func TestCallback_SentOnceWhenTerminalAtOnce(t *testing.T) {
	rc := newReceiver(t)
	e := newEnv(t, Config{})
	e.postWithCallback("46733123451", rc.url)

	require.Eventually(t, func() bool { return rc.count() == 1 }, 2*time.Second, 5*time.Millisecond)
	e.sim.Close() // waits for callbacks in flight
	rc.mu.Lock()
	defer rc.mu.Unlock()
	assert.Equal(t, []string{http.MethodPost}, rc.methods)
	assert.Equal(t, StatusFailed, rc.bodies[0]["status"])
	assert.Equal(t, "cb", rc.bodies[0]["externalId"])
}

func TestCallback_SentWhenAPendingTransferIsSeenTerminal(t *testing.T) {
	rc := newReceiver(t)
	e := newEnv(t, Config{PendingFor: time.Hour}) // fake clock: the timer never sees it end
	ref := e.postWithCallback("46733123499", rc.url)

	e.get(ProductDisbursement, ref)
	time.Sleep(20 * time.Millisecond)
	assert.Zero(t, rc.count(), "no callback while PENDING")

	e.clock.Advance(time.Hour)
	e.get(ProductDisbursement, ref)
	e.get(ProductDisbursement, ref)
	e.sim.Transfers()
	e.sim.Close()
	require.Equal(t, 1, rc.count())
	assert.Equal(t, StatusSuccessful, rc.bodies[0]["status"])
	assert.NotEmpty(t, rc.bodies[0]["financialTransactionId"])
}

func TestCallback_TimerSendsWithoutAnyGet(t *testing.T) {
	rc := newReceiver(t)
	e := newEnv(t, Config{PendingFor: 30 * time.Millisecond, Now: time.Now})
	e.postWithCallback("46733123499", rc.url)

	require.Eventually(t, func() bool { return rc.count() == 1 }, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, StatusSuccessful, rc.bodies[0]["status"])
}

func TestCallback_NoneWithoutCallbackURLOrAfterClose(t *testing.T) {
	rc := newReceiver(t)
	e := newEnv(t, Config{PendingFor: time.Minute})
	e.mustPost(ProductDisbursement, "46733123499", "x", "1")
	ref := e.postWithCallback("46733123499", rc.url)

	e.sim.Close()
	e.clock.Advance(time.Minute)
	e.get(ProductDisbursement, ref)
	time.Sleep(20 * time.Millisecond)
	assert.Zero(t, rc.count())
}

func TestCallback_OnlyToLoopbackHosts(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true,
		"example.com": false, "10.0.0.1": false, "localhost.example.com": false, "": false,
	} {
		assert.Equal(t, want, isLoopbackHost(host), host)
	}

	sim := New(Config{})
	start := time.Now()
	sim.sendCallback("http://192.0.2.1/never", []byte(`{}`)) // TEST-NET: must not be dialled
	assert.Less(t, time.Since(start), 100*time.Millisecond)
}
