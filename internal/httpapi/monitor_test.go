package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/httpapi"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/testutil"
)

// monitor serves a monitor on the test Redis, whose disbursement queue holds one transfer
// task and one task whose payload carries a phone number.
func monitor(t *testing.T, cfg httpapi.MonitorConfig) (*httptest.Server, asynq.RedisConnOpt) {
	t.Helper()
	testutil.Redis(t, redisDB)
	opt := asynq.RedisClientOpt{Addr: testutil.RedisAddr(), DB: redisDB}
	client := asynq.NewClient(opt)
	defer client.Close()
	ref := "6f1c8a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
	_, err := client.Enqueue(tasks.NewTransferTask(momo.Disbursement, "b1", ref, tasks.Options{}))
	require.NoError(t, err)
	_, err = client.Enqueue(asynq.NewTask("legacy", []byte(`{"msisdn":"46733123450"}`)),
		asynq.Queue(tasks.Queue(momo.Disbursement)), asynq.TaskID("legacy-1"))
	require.NoError(t, err)

	cfg.Redis = opt
	mon, err := httpapi.NewMonitor(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(mon)
	t.Cleanup(func() {
		srv.Close()
		_ = mon.Close()
	})
	return srv, opt
}

func TestMonitor_CredentialsGuardMonitorAndMetricsNotProbes(t *testing.T) {
	creds := &httpapi.Credentials{User: "ops", Password: testPassword}
	srv, _ := monitor(t, httpapi.MonitorConfig{Credentials: creds,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("m 1\n")) })})

	for _, path := range []string{"/monitor/", "/monitor/api/queues", "/metrics"} {
		for _, try := range []struct{ user, password string }{
			{"", ""}, {"ops", "wrong-password-here"}, {"admin", testPassword}, {"ops", testPassword + "x"},
		} {
			req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			require.NoError(t, err)
			if try.user != "" {
				req.SetBasicAuth(try.user, try.password)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s as %q", path, try.user)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
		}
		status, _ := get(t, srv.URL+path, "ops", testPassword)
		assert.Equal(t, http.StatusOK, status, path)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		status, _ := get(t, srv.URL+path, "", "")
		assert.Equal(t, http.StatusOK, status, "%s stays open to probes", path)
	}
}

func TestMonitor_ShowsQueuesAndMaskedPayloads(t *testing.T) {
	srv, _ := monitor(t, httpapi.MonitorConfig{})

	status, body := get(t, srv.URL+"/monitor/api/queues/disbursement/pending_tasks", "", "")

	require.Equal(t, http.StatusOK, status, body)
	var page struct {
		Tasks []struct {
			ID      string `json:"id"`
			Payload string `json:"payload"`
		} `json:"tasks"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	payloads := map[string]string{}
	for _, task := range page.Tasks {
		payloads[task.ID] = task.Payload
	}
	ref := "6f1c8a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
	assert.JSONEq(t, `{"batch":"b1","ref":"`+ref+`","product":"disbursement"}`, payloads[ref])
	assert.JSONEq(t, `{"msisdn":"4673****450"}`, payloads["legacy-1"])
	assert.NotContains(t, body, "46733123450")

	status, _ = get(t, srv.URL+"/", "", "")
	assert.Equal(t, http.StatusOK, status, "/ leads to the monitor")
	status, html := get(t, srv.URL+"/monitor", "", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, html, "<div id=\"root\">", "the monitor's single page")
}

func TestMonitor_ChangesRefusedReadOnlyOrCrossSite(t *testing.T) {
	pause := "/monitor/api/queues/disbursement:pause"
	send := func(t *testing.T, url string, header map[string]string) int {
		req, err := http.NewRequest(http.MethodPost, url, nil)
		require.NoError(t, err)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		status, _ := do(t, req)
		return status
	}

	t.Run("read-only", func(t *testing.T) {
		srv, opt := monitor(t, httpapi.MonitorConfig{ReadOnly: true})
		assert.Equal(t, http.StatusMethodNotAllowed, send(t, srv.URL+pause, nil))
		assert.False(t, queuePaused(t, opt))
	})
	t.Run("cross-site", func(t *testing.T) {
		srv, opt := monitor(t, httpapi.MonitorConfig{})
		assert.Equal(t, http.StatusForbidden, send(t, srv.URL+pause, map[string]string{"Origin": "https://evil.example"}))
		assert.Equal(t, http.StatusForbidden, send(t, srv.URL+pause, map[string]string{"Sec-Fetch-Site": "cross-site"}))
		assert.Equal(t, http.StatusForbidden, send(t, srv.URL+pause, map[string]string{
			"Sec-Fetch-Site": "same-site", "Origin": srv.URL}), "the browser's word wins")
		assert.False(t, queuePaused(t, opt))

		assert.Equal(t, http.StatusNoContent, send(t, srv.URL+pause, map[string]string{
			"Origin": srv.URL, "Sec-Fetch-Site": "same-origin"}), "the monitor's own page may")
		assert.True(t, queuePaused(t, opt))
	})
}

func queuePaused(t *testing.T, opt asynq.RedisConnOpt) bool {
	t.Helper()
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	info, err := insp.GetQueueInfo(tasks.Queue(momo.Disbursement))
	require.NoError(t, err)
	return info.Paused
}
