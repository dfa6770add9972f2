package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
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
const redisDB = 9

// scrape returns the text exposition of m.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

var labelPair = regexp.MustCompile(`(\w+)="([^"]*)"`)

// sample returns the value of the series of name with exactly labels in a text exposition,
// and whether there is one.
func sample(text, name string, labels map[string]string) (float64, bool) {
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		series, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		metric, rest, _ := strings.Cut(series, "{")
		if metric != name {
			continue
		}
		pairs := labelPair.FindAllStringSubmatch(rest, -1)
		if len(pairs) != len(labels) {
			continue
		}
		match := true
		for _, p := range pairs {
			match = match && labels[p[1]] == p[2]
		}
		if match {
			v, err := strconv.ParseFloat(value, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// value is sample for a series that must exist.
func value(t *testing.T, text, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok := sample(text, name, labels)
	require.True(t, ok, "no series %s%v in:\n%s", name, labels, grep(text, name))
	return v
}

func grep(text, name string) string {
	var out []string
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, name) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// serve starts m's handler over HTTP and returns its URL.
func serve(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestMetrics_ObserverCountsStatesAmountsRetriesAndResumes(t *testing.T) {
	m := metrics.New(metrics.Options{})
	d, r := momo.Disbursement, momo.Remittance

	m.ItemState(d, ledger.Validated, ledger.Submitting, "EUR", 1050)
	m.ItemState(d, ledger.Submitting, ledger.Submitted, "EUR", 1050)
	m.ItemState(d, ledger.Submitted, ledger.Successful, "EUR", 1050)
	m.ItemState(d, ledger.Submitted, ledger.Successful, "EUR", 200)
	m.ItemState(r, ledger.Submitted, ledger.Failed, "UGX", 5000)
	m.Retry(d, "transfer")
	m.Retry(d, "transfer")
	m.Retry(r, "status")
	m.SweeperResumed(d, ledger.Submitting)
	m.BatchPaused("payroll-1")
	m.BatchPaused("payroll-2")
	m.Callback(metrics.CallbackDuplicate)
	text := scrape(t, serve(t, m))

	assert.Equal(t, 2.0, value(t, text, "payout_items_total", map[string]string{"product": "disbursement", "state": "SUCCESSFUL"}))
	assert.Equal(t, 1.0, value(t, text, "payout_items_total", map[string]string{"product": "remittance", "state": "FAILED"}))
	assert.Equal(t, 0.0, value(t, text, "payout_items_total", map[string]string{"product": "remittance", "state": "SUCCESSFUL"}),
		"series start at zero, so that rates work from the first payout")
	assert.Equal(t, 1250.0, value(t, text, "payout_amount_minor_total", map[string]string{"product": "disbursement", "currency": "EUR", "state": "SUCCESSFUL"}))
	assert.Equal(t, 5000.0, value(t, text, "payout_amount_minor_total", map[string]string{"product": "remittance", "currency": "UGX", "state": "FAILED"}))
	assert.Equal(t, 2.0, value(t, text, "payout_retries_total", map[string]string{"product": "disbursement", "task": "transfer"}))
	assert.Equal(t, 1.0, value(t, text, "payout_retries_total", map[string]string{"product": "remittance", "task": "status"}))
	assert.Equal(t, 1.0, value(t, text, "payout_sweeper_resumed_total", map[string]string{"product": "disbursement", "state": "SUBMITTING"}))
	assert.Equal(t, 2.0, value(t, text, "payout_batches_paused_total", nil))
	assert.Equal(t, 1.0, value(t, text, "payout_callbacks_total", map[string]string{"outcome": "duplicate"}))
	assert.NotContains(t, text, "payroll-1", "batch IDs are no label: a series per batch would not scale")
	assert.Contains(t, text, "go_goroutines")
	assert.Contains(t, text, "process_cpu_seconds_total")
}

func TestMetrics_StatusClass(t *testing.T) {
	for status, want := range map[int]string{0: "error", 200: "2xx", 202: "2xx", 404: "4xx",
		409: "4xx", 429: "4xx", 500: "5xx", 503: "5xx", 99: "error", 600: "error"} {
		assert.Equal(t, want, metrics.StatusClass(status), "%d", status)
	}
}

func TestMetrics_ProductPausedFollowsTheLedger(t *testing.T) {
	store := ledger.New(testutil.Redis(t, redisDB))
	ctx := context.Background()
	m := metrics.New(metrics.Options{Pauses: store})
	url := serve(t, m)
	paused := func() float64 {
		return value(t, scrape(t, url), "payout_product_paused", map[string]string{"product": "remittance"})
	}

	assert.Equal(t, 0.0, paused())
	require.NoError(t, store.PauseProduct(ctx, "remittance", "paused at ...: 401"))
	assert.Equal(t, 1.0, paused(), "a pause recorded by any worker shows")
	require.NoError(t, store.ResumeProduct(ctx, "remittance"))
	assert.Equal(t, 0.0, paused(), "'payoutctl resume -product' shows at the next scrape")
}

func TestMetrics_ProductPausedWithoutLedgerShowsWhatWasObserved(t *testing.T) {
	m := metrics.New(metrics.Options{})
	url := serve(t, m)

	m.ProductPaused(momo.Disbursement, true)

	text := scrape(t, url)
	assert.Equal(t, 1.0, value(t, text, "payout_product_paused", map[string]string{"product": "disbursement"}))
	assert.Equal(t, 0.0, value(t, text, "payout_product_paused", map[string]string{"product": "remittance"}))
}

// startStack runs the simulator over HTTP and, unless noWorker, a worker, with the HTTP side
// and its metrics.
func startStack(t *testing.T, sim momosim.Config, noWorker bool) *stack.Stack {
	t.Helper()
	testutil.Redis(t, redisDB)
	st, err := stack.Start(context.Background(), stack.Options{
		RedisAddr: testutil.RedisAddr(), RedisDB: redisDB, Sim: sim, Log: zerolog.Nop(),
		NoWorker: noWorker, HTTP: &stack.HTTPOptions{},
		Worker: worker.Config{
			Concurrency: 4, SweepInterval: time.Second,
			Tasks: tasks.Config{PollInitial: 100 * time.Millisecond, PollMax: 500 * time.Millisecond,
				CallTimeout: 5 * time.Second, Slack: 30 * time.Second},
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// enqueue enqueues a disbursement file of n ordinary rows of 1.00, 2.00, ... EUR.
func enqueue(t *testing.T, st *stack.Stack, n int) *intake.Result {
	t.Helper()
	var b strings.Builder
	b.WriteString("msisdn,amount,external_id\n")
	for i := range n {
		fmt.Fprintf(&b, "2567720000%02d,%d.00,m-%d\n", i, i+1, i)
	}
	path := filepath.Join(t.TempDir(), "metrics.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	res, err := intake.New(st.Store, st.Client).Run(context.Background(), intake.Request{
		Path: path, Product: momo.Disbursement,
		Options: batch.Options{TargetEnvironment: "sandbox", DefaultCurrency: "EUR"},
		Slack:   30 * time.Second,
	})
	require.NoError(t, err)
	return res
}

func TestMetrics_MoMoCallsAndTokenRefreshesOverHTTP(t *testing.T) {
	st := startStack(t, momosim.Config{}, true)
	ctx := context.Background()
	ref := uuid.NewString()

	require.NoError(t, st.MoMo.Transfer(ctx, momo.Disbursement, ref, momo.TransferRequest{
		Amount: "5", Currency: "EUR", ExternalID: "x",
		Payee: momo.Party{PartyIDType: "MSISDN", PartyID: "256772000001"},
	}))
	_, err := st.MoMo.GetTransfer(ctx, momo.Disbursement, ref)
	require.NoError(t, err)
	_, err = st.MoMo.GetTransfer(ctx, momo.Disbursement, uuid.NewString())
	require.True(t, momo.IsNotFound(err), "%v", err)
	text := scrape(t, st.MonitorURL+"/metrics")

	count := func(endpoint, class string) float64 {
		return value(t, text, "momo_request_duration_seconds_count", map[string]string{
			"product": "disbursement", "endpoint": endpoint, "status_class": class})
	}
	assert.Equal(t, 1.0, count("token", "2xx"))
	assert.Equal(t, 1.0, count("transfer", "2xx"))
	assert.Equal(t, 1.0, count("transfer_status", "2xx"))
	assert.Equal(t, 1.0, count("transfer_status", "4xx"))
	assert.Equal(t, 1.0, value(t, text, "momo_token_refreshes_total",
		map[string]string{"product": "disbursement", "result": "ok"}), "one token, reused")
	assert.Equal(t, 0.0, value(t, text, "momo_token_refreshes_total",
		map[string]string{"product": "disbursement", "result": "error"}))
	assert.NotContains(t, text, momosim.DefaultAPIKey)
	assert.NotContains(t, text, momosim.DefaultDisbursementKey)
}

func TestMetrics_AsynqQueuesAreCollected(t *testing.T) {
	st := startStack(t, momosim.Config{}, true)
	enqueue(t, st, 3)

	text := scrape(t, st.MonitorURL+"/metrics")

	assert.Equal(t, 3.0, value(t, text, "asynq_queue_size", map[string]string{"queue": "disbursement"}))
	assert.Equal(t, 3.0, value(t, text, "asynq_tasks_enqueued_total",
		map[string]string{"queue": "disbursement", "state": "pending"}))
}

func TestMetrics_WholeBatchIsCounted(t *testing.T) {
	st := startStack(t, momosim.Config{}, false)
	res := enqueue(t, st, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, st.WaitDone(ctx, res.BatchID, nil))

	text := scrape(t, st.MonitorURL+"/metrics")

	for _, state := range []string{"SUBMITTING", "SUBMITTED", "SUCCESSFUL"} {
		assert.Equal(t, 4.0, value(t, text, "payout_items_total",
			map[string]string{"product": "disbursement", "state": state}), state)
	}
	assert.Equal(t, 1000.0, value(t, text, "payout_amount_minor_total", map[string]string{
		"product": "disbursement", "currency": "EUR", "state": "SUCCESSFUL"}), "1+2+3+4 EUR in cents")
	assert.Equal(t, 4.0, value(t, text, "momo_request_duration_seconds_count", map[string]string{
		"product": "disbursement", "endpoint": "transfer", "status_class": "2xx"}))
	assert.Equal(t, 0.0, value(t, text, "payout_product_paused", map[string]string{"product": "disbursement"}))
	_, ok := sample(text, "asynq_queue_size", map[string]string{"queue": "disbursement-poll"})
	assert.True(t, ok, "the poll queue is collected too")
}

var errBoom = errors.New("boom")

func TestMetrics_FailedTokenRefreshIsCounted(t *testing.T) {
	m := metrics.New(metrics.Options{Products: []momo.Product{momo.Remittance}})

	m.ObserveTokenRefresh(momo.Remittance, errBoom)
	m.ObserveCall(momo.Remittance, "token", 0, 30*time.Second)

	text := scrape(t, serve(t, m))
	assert.Equal(t, 1.0, value(t, text, "momo_token_refreshes_total",
		map[string]string{"product": "remittance", "result": "error"}))
	assert.Equal(t, 1.0, value(t, text, "momo_request_duration_seconds_bucket", map[string]string{
		"product": "remittance", "endpoint": "token", "status_class": "error", "le": "30"}))
	_, ok := sample(text, "payout_items_total", map[string]string{"product": "disbursement", "state": "SUCCESSFUL"})
	assert.False(t, ok, "only the configured products start at zero")
}
