// Package metrics holds the worker's Prometheus metrics, on a registry of their own: payout
// state changes and amounts, MoMo call latency and token refreshes, retries, sweeper resumes,
// paused products and batches, callbacks, and Asynq's queue sizes.
//
// Metrics implements tasks.Observer and momo.Observer; hand the same value to
// worker.Config.Observer and momo.Config.Observer. Counters are per process: with several
// workers, sum them across instances.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

// PauseReader tells whether a product is paused; ledger.Store implements it.
type PauseReader interface {
	ProductPause(ctx context.Context, product string) (string, error)
}

// Options configure New.
type Options struct {
	// Products are the products served; their series start at zero. Defaults to
	// tasks.Products.
	Products []momo.Product
	// Inspector, when set, adds Asynq's queue metrics (asynq_queue_size,
	// asynq_tasks_enqueued_total{queue,state}, ...), read from Redis at each scrape. Defaults
	// to nil: none.
	Inspector *asynq.Inspector
	// Pauses, when set, is read at each scrape for payout_product_paused, so that a pause
	// recorded or lifted by another process ('payoutctl resume -product') shows. Defaults to
	// nil: the gauge shows what this process observed.
	Pauses PauseReader
	// ScrapeTimeout bounds the ledger reads of one scrape. Defaults to 2 s.
	ScrapeTimeout time.Duration
}

// DefaultScrapeTimeout is the default of Options.ScrapeTimeout.
const DefaultScrapeTimeout = 2 * time.Second

// Callback outcomes, the values of payout_callbacks_total's outcome label.
const (
	CallbackPollEnqueued = "poll_enqueued" // a status poll was enqueued at once
	CallbackDuplicate    = "duplicate"     // the poll of that sequence exists already
	CallbackIgnored      = "ignored"       // no such item, or not awaiting MoMo's answer
	CallbackError        = "error"         // the ledger or the queue could not be reached
	CallbackRejected     = "rejected"      // the request was malformed
)

// Metrics are the worker's metrics. Its methods are safe for concurrent use.
type Metrics struct {
	reg       *prometheus.Registry
	items     *prometheus.CounterVec
	amounts   *prometheus.CounterVec
	calls     *prometheus.HistogramVec
	refreshes *prometheus.CounterVec
	retries   *prometheus.CounterVec
	resumed   *prometheus.CounterVec
	batches   prometheus.Counter
	callbacks *prometheus.CounterVec
	paused    *pausedCollector
}

// Compile-time checks that Metrics observes both layers.
var (
	_ tasks.Observer = (*Metrics)(nil)
	_ momo.Observer  = (*Metrics)(nil)
)

// New returns the metrics, registered on a new registry with Go and process metrics.
func New(o Options) *Metrics {
	if len(o.Products) == 0 {
		o.Products = tasks.Products
	}
	if o.ScrapeTimeout <= 0 {
		o.ScrapeTimeout = DefaultScrapeTimeout
	}
	m := newVectors()
	m.reg = prometheus.NewRegistry()
	m.paused = newPausedCollector(o.Products, o.Pauses, o.ScrapeTimeout)
	m.reg.MustRegister(m.items, m.amounts, m.calls, m.refreshes, m.retries, m.resumed,
		m.batches, m.callbacks, m.paused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.Inspector != nil {
		m.reg.MustRegister(unchecked{asynqmetrics.NewQueueMetricsCollector(o.Inspector)})
	}
	m.startAtZero(o.Products)
	return m
}

func newVectors() *Metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	return &Metrics{
		items: counter("payout_items_total",
			"Payout items that entered a state, by product and state.", "product", "state"),
		amounts: counter("payout_amount_minor_total",
			"Amounts, in the currency's minor units, of payout items that entered a state.",
			"product", "currency", "state"),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "momo_request_duration_seconds",
			Help:    "MoMo API round trips, by product, endpoint and status class (error: no answer).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10, 20, 30},
		}, []string{"product", "endpoint", "status_class"}),
		refreshes: counter("momo_token_refreshes_total",
			"MoMo access token fetches, by product and result (ok, error).", "product", "result"),
		retries: counter("payout_retries_total",
			"Task runs that will be retried after an unclear MoMo outcome, by product and task.",
			"product", "task"),
		resumed: counter("payout_sweeper_resumed_total",
			"Stranded items the sweeper resumed, by product and the state they were in.",
			"product", "state"),
		batches: prometheus.NewCounter(prometheus.CounterOpts{Name: "payout_batches_paused_total",
			Help: "Batches paused because MoMo reported insufficient funds."}),
		callbacks: counter("payout_callbacks_total",
			"MoMo callbacks received, by what they led to.", "outcome"),
	}
}

// startAtZero creates the series a dashboard divides by, so that rates start from zero.
func (m *Metrics) startAtZero(products []momo.Product) {
	for _, p := range products {
		for _, st := range ledger.States {
			m.items.WithLabelValues(string(p), string(st))
		}
		for _, task := range []string{"transfer", "status"} {
			m.retries.WithLabelValues(string(p), task)
		}
		for _, result := range []string{"ok", "error"} {
			m.refreshes.WithLabelValues(string(p), result)
		}
	}
	for _, outcome := range []string{CallbackPollEnqueued, CallbackDuplicate, CallbackIgnored,
		CallbackError, CallbackRejected} {
		m.callbacks.WithLabelValues(outcome)
	}
}

// Registry returns the registry the metrics are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ItemState implements tasks.Observer: an item of product p moved from one state to another.
func (m *Metrics) ItemState(p momo.Product, _, to ledger.State, currency string, minor int64) {
	m.items.WithLabelValues(string(p), string(to)).Inc()
	if currency != "" && minor > 0 {
		m.amounts.WithLabelValues(string(p), currency, string(to)).Add(float64(minor))
	}
}

// Retry implements tasks.Observer: a task of p ("transfer", "status") will run again.
func (m *Metrics) Retry(p momo.Product, task string) {
	m.retries.WithLabelValues(string(p), task).Inc()
}

// ProductPaused implements tasks.Observer.
func (m *Metrics) ProductPaused(p momo.Product, paused bool) { m.paused.set(p, paused) }

// BatchPaused implements tasks.Observer. The batch ID is not a label: it would make a series
// per batch.
func (m *Metrics) BatchPaused(string) { m.batches.Inc() }

// SweeperResumed implements tasks.Observer.
func (m *Metrics) SweeperResumed(p momo.Product, state ledger.State) {
	m.resumed.WithLabelValues(string(p), string(state)).Inc()
}

// ObserveCall implements momo.Observer.
func (m *Metrics) ObserveCall(p momo.Product, endpoint string, status int, d time.Duration) {
	m.calls.WithLabelValues(string(p), endpoint, StatusClass(status)).Observe(d.Seconds())
}

// ObserveTokenRefresh implements momo.Observer.
func (m *Metrics) ObserveTokenRefresh(p momo.Product, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.refreshes.WithLabelValues(string(p), result).Inc()
}

// Callback counts a MoMo callback by its outcome, one of the Callback* constants.
func (m *Metrics) Callback(outcome string) { m.callbacks.WithLabelValues(outcome).Inc() }

// StatusClass names an HTTP status by its class: 200 is "2xx"; 0 (no answer) is "error".
func StatusClass(status int) string {
	if status < 100 || status > 599 {
		return "error"
	}
	return strconv.Itoa(status/100) + "xx"
}

// unchecked registers a collector without describing it. Asynq's queue collector describes
// itself by collecting, which would read Redis as New registers it.
type unchecked struct{ prometheus.Collector }

// Describe implements prometheus.Collector: nothing, so that the registry does not check it.
func (unchecked) Describe(chan<- *prometheus.Desc) {}

// pausedCollector reports payout_product_paused from the ledger at each scrape, falling back
// to the last value seen when the ledger cannot be read.
type pausedCollector struct {
	desc     *prometheus.Desc
	products []momo.Product
	pauses   PauseReader
	timeout  time.Duration

	mu   sync.Mutex
	last map[momo.Product]bool
}

func newPausedCollector(products []momo.Product, pauses PauseReader,
	timeout time.Duration) *pausedCollector {
	return &pausedCollector{
		desc: prometheus.NewDesc("payout_product_paused",
			"1 while a product is paused because MoMo refused its credentials or configuration.",
			[]string{"product"}, nil),
		products: products, pauses: pauses, timeout: timeout, last: map[momo.Product]bool{},
	}
}

func (c *pausedCollector) set(p momo.Product, paused bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last[p] = paused
}

// Describe implements prometheus.Collector.
func (c *pausedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *pausedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	for _, p := range c.products {
		if c.pauses != nil {
			if reason, err := c.pauses.ProductPause(ctx, string(p)); err == nil {
				c.set(p, reason != "")
			}
		}
		c.mu.Lock()
		v := 0.0
		if c.last[p] {
			v = 1
		}
		c.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, string(p))
	}
}
