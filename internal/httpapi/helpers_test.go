package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/metrics"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/stack"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/testutil"
	"github.com/momopay/payout/internal/worker"
)

// redisDB is this package's database on the test Redis.
const redisDB = 8

// testPassword is long enough for CredentialsFromEnv.
const testPassword = "correct-horse-battery"

// setup configures a stack for one test.
type setup struct {
	sim      momosim.Config
	http     stack.HTTPOptions
	tasks    tasks.Config
	noWorker bool
}

// fastPolls polls often, for tests where polling is the way a payout ends.
var fastPolls = tasks.Config{
	PollInitial: 200 * time.Millisecond, PollMax: time.Second,
	CallTimeout: 5 * time.Second, Slack: 30 * time.Second,
}

// slowPolls leaves 30 s before the first poll, so that only a callback can explain a payout
// recorded sooner.
var slowPolls = tasks.Config{
	PollInitial: 30 * time.Second, PollMax: 30 * time.Second,
	CallTimeout: 5 * time.Second, Slack: time.Minute,
}

// env is a running stack and its simulator, whose status queries are counted per reference.
type env struct {
	*stack.Stack
	sim *momosim.Server

	mu   sync.Mutex
	gets map[string]int
}

// start runs the simulator, a worker and its HTTP side on the test Redis.
func start(t *testing.T, s setup) *env {
	t.Helper()
	testutil.Redis(t, redisDB)
	e := &env{sim: momosim.New(s.sim), gets: map[string]int{}}
	simSrv := httptest.NewServer(http.HandlerFunc(e.serveSim))
	st, err := stack.Start(context.Background(), stack.Options{
		RedisAddr: testutil.RedisAddr(), RedisDB: redisDB, MoMoURL: simSrv.URL, Log: zerolog.Nop(),
		NoWorker: s.noWorker, HTTP: &s.http,
		Worker: worker.Config{
			Concurrency: 4, SweepInterval: time.Second, Tasks: s.tasks,
			Products: []momo.Product{momo.Disbursement},
		},
	})
	require.NoError(t, err)
	e.Stack = st
	t.Cleanup(func() {
		_ = st.Close()
		simSrv.Close()
		e.sim.Close()
	})
	return e
}

// serveSim counts status queries by reference ID and hands every request to the simulator.
func (e *env) serveSim(w http.ResponseWriter, r *http.Request) {
	if ref, ok := strings.CutPrefix(r.URL.Path, "/disbursement/v1_0/transfer/"); ok &&
		r.Method == http.MethodGet {
		e.mu.Lock()
		e.gets[ref]++
		e.mu.Unlock()
	}
	e.sim.ServeHTTP(w, r)
}

// statusQueries returns how many times the worker asked MoMo for ref's status.
func (e *env) statusQueries(ref string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gets[ref]
}

// transfer returns the simulator's record of ref.
func (e *env) transfer(t *testing.T, ref string) momosim.Transfer {
	t.Helper()
	for _, tr := range e.sim.Transfers() {
		if tr.ReferenceID == ref {
			return tr
		}
	}
	t.Fatalf("MoMo holds no transfer %s", ref)
	return momosim.Transfer{}
}

// Payee numbers. Ordinary numbers follow Sim.PendingFor; the sandbox's "ongoing" test number
// stays PENDING for Sim.OngoingFor, then succeeds.
const (
	ordinary = "256771000001"
	ongoing  = "46733123453"
)

// enqueue writes a file paying each of numbers (their external IDs start with tag, so that
// each call is a batch of its own) and enqueues it.
func enqueue(t *testing.T, st *env, tag string, numbers ...string) *intake.Result {
	t.Helper()
	var b strings.Builder
	b.WriteString("msisdn,amount,external_id\n")
	for i, n := range numbers {
		fmt.Fprintf(&b, "%s,%d,%s-%04d\n", n, 100+i, tag, i)
	}
	path := filepath.Join(t.TempDir(), tag+".csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))

	res, err := intake.New(st.Store, st.Client).Run(context.Background(), intake.Request{
		Path: path, Product: momo.Disbursement,
		Options: batch.Options{TargetEnvironment: "sandbox", DefaultCurrency: "EUR"},
		Slack:   time.Minute,
	})
	require.NoError(t, err)
	require.Equal(t, len(numbers), res.Accepted)
	return res
}

// items returns the batch's items in line order.
func items(t *testing.T, st *env, id string) []*ledger.Item {
	t.Helper()
	var out []*ledger.Item
	require.NoError(t, st.Store.EachItem(context.Background(), id, func(it *ledger.Item) error {
		out = append(out, it)
		return nil
	}))
	return out
}

// waitState waits until every item of the batch is in state.
func waitState(t *testing.T, st *env, id string, state ledger.State, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		c, err := st.Store.Counts(context.Background(), id)
		return err == nil && c.Total() > 0 && c.Items[state] == c.Total()
	}, within, 20*time.Millisecond, "every item of %s %s within %s", id, state, within)
}

// get sends a GET with optional basic auth and returns the status and body.
func get(t *testing.T, url string, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	return do(t, req)
}

// do sends req and returns the status and body.
func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// counterValue returns the value of the series of a counter or gauge with exactly labels,
// or 0 when there is none.
func counterValue(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if hasLabels(s, labels) {
				if s.GetCounter() != nil {
					return s.GetCounter().GetValue()
				}
				return s.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func hasLabels(s *dto.Metric, want map[string]string) bool {
	if len(s.GetLabel()) != len(want) {
		return false
	}
	for _, l := range s.GetLabel() {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}
