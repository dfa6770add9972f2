package httpapi

import (
	"errors"
	"net/http"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/rs/zerolog"
)

// MonitorPath is where the Asynq monitor is served.
const MonitorPath = "/monitor"

// MonitorConfig configures NewMonitor.
type MonitorConfig struct {
	// Redis is the Redis of the payout queues. Required.
	Redis asynq.RedisConnOpt
	// ReadOnly lets the monitor show queues and tasks but not change them (asynqmon's
	// ReadOnly). Defaults to false.
	ReadOnly bool
	// Credentials, when set, are required (HTTP basic auth) for the monitor and /metrics;
	// /healthz and /readyz stay open to probes. Defaults to nil: no password, which
	// CheckExposure allows on loopback addresses only.
	Credentials *Credentials
	// Metrics is served at /metrics. Defaults to nil: no /metrics.
	Metrics http.Handler
	// Checks decide /readyz. Defaults to none: ready while the process runs.
	Checks []Check
	// Log receives failed readiness checks.
	Log zerolog.Logger
}

// Monitor serves the Asynq monitor under /monitor/, /metrics, /healthz and /readyz.
type Monitor struct {
	mux *http.ServeMux
	ui  *asynqmon.HTTPHandler
}

// NewMonitor returns the operators' HTTP handler. Close releases its Redis connections.
func NewMonitor(cfg MonitorConfig) (*Monitor, error) {
	if cfg.Redis == nil {
		return nil, errors.New("httpapi: monitor: Redis is required")
	}
	ui := asynqmon.New(asynqmon.Options{
		RootPath:         MonitorPath,
		RedisConnOpt:     cfg.Redis,
		PayloadFormatter: PayloadFormatter,
		ResultFormatter:  ResultFormatter,
		ReadOnly:         cfg.ReadOnly,
	})
	m := &Monitor{mux: http.NewServeMux(), ui: ui}
	guard := func(h http.Handler) http.Handler { return requireAuth(cfg.Credentials, h) }

	m.mux.HandleFunc("GET /healthz", healthz)
	m.mux.Handle("GET /readyz", &readiness{checks: cfg.Checks, log: cfg.Log})
	if cfg.Metrics != nil {
		m.mux.Handle("GET /metrics", guard(cfg.Metrics))
	}
	m.mux.Handle(MonitorPath+"/", guard(sameOrigin(withSafetyHeaders(ui))))
	m.mux.Handle("GET /{$}", http.RedirectHandler(MonitorPath+"/", http.StatusFound))
	return m, nil
}

// ServeHTTP implements http.Handler.
func (m *Monitor) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

// Close releases the monitor's Redis connections.
func (m *Monitor) Close() error { return m.ui.Close() }

// withSafetyHeaders keeps the monitor out of other sites' frames and its answers out of
// shared caches.
func withSafetyHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "private, no-store")
		next.ServeHTTP(w, r)
	})
}
