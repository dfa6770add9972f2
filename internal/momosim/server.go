package momosim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Server is the simulated MoMo API. It is an http.Handler: mount it on an httptest.Server
// or an http.Server. All methods are safe for concurrent use.
type Server struct {
	cfg Config
	mux *http.ServeMux

	callbackClient *http.Client
	callbacks      sync.WaitGroup

	mu        sync.Mutex // guards everything below
	users     map[string]*apiUser
	tokens    map[string]accessToken
	transfers map[string]*transfer // by product + "/" + reference ID
	order     []*transfer          // in creation order
	balance   map[string]int64     // hundredths, by product
	faults    faultState
	stats     Stats // PaidTwice and FaultsInjected are computed when read
	ftidSeq   int64
	closed    bool
}

// apiUser is an API user that Basic auth accepts.
type apiUser struct {
	apiKey       string // empty until a key is generated
	callbackHost string // empty means any host
}

// New returns a simulator for cfg, its zero fields set to their defaults. It panics when
// cfg names an unknown product or holds a balance that is not a decimal string.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		panic(err)
	}

	s := &Server{
		cfg:            cfg,
		callbackClient: newCallbackClient(),
		users:          map[string]*apiUser{cfg.APIUser: {apiKey: cfg.APIKey, callbackHost: cfg.CallbackHost}},
		tokens:         make(map[string]accessToken),
		transfers:      make(map[string]*transfer),
		balance:        make(map[string]int64),
		faults:         newFaultState(cfg.Faults, cfg.Seed),
		ftidSeq:        1_000_000_000,
	}
	for p, amount := range cfg.Balance {
		s.balance[p], _ = parseAmount(amount, true) // checked by validate
	}
	s.mux = s.routes()
	return s
}

// routes registers every endpoint the simulator answers.
func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("POST /{product}/token/{$}", s.productCall(s.handleToken))
	// Without this the mux would redirect /token to /token/; MoMo documents the slash.
	m.HandleFunc("/{product}/token", notFound)
	m.HandleFunc("POST /{product}/v1_0/transfer", s.productCall(s.handleCreateTransfer))
	m.HandleFunc("GET /{product}/v1_0/transfer/{ref}", s.productCall(s.handleGetTransfer))
	m.HandleFunc("GET /{product}/v1_0/account/balance", s.productCall(s.handleBalance))
	m.HandleFunc("GET /{product}/v1_0/accountholder/{kind}/{id}/active",
		s.productCall(s.handleAccountActive))

	m.HandleFunc("POST /v1_0/apiuser", s.providerCall(s.handleCreateUser))
	m.HandleFunc("POST /v1_0/apiuser/{id}/apikey", s.providerCall(s.handleCreateKey))
	m.HandleFunc("GET /v1_0/apiuser/{id}", s.providerCall(s.handleGetUser))

	s.adminRoutes(m)
	m.HandleFunc("/", notFound)
	return m
}

// notFound answers 404 the way the API gateway does.
func notFound(w http.ResponseWriter, _ *http.Request) {
	writeGatewayError(w, http.StatusNotFound, "Resource not found")
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Close stops pending callback timers, refuses new callbacks and waits for those in flight.
// The server keeps answering requests.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	for _, t := range s.order {
		if t.timer != nil {
			t.timer.Stop()
			t.timer = nil
		}
	}
	s.mu.Unlock()

	s.callbacks.Wait()
}

// productCall wraps a handler of /{product}/...: it refuses unknown products, applies
// latency and the slow and 429 faults, then calls h with the product.
func (s *Server) productCall(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		product := r.PathValue("product")
		if !validProduct(product) {
			notFound(w, r)
			return
		}
		if !s.delay(r) {
			return
		}

		s.mu.Lock()
		limited := s.faults.hit(FaultTooManyRequests, s.faults.probs.TooManyRequests)
		s.mu.Unlock()
		if limited {
			w.Header().Set("Retry-After", "1")
			writeGatewayError(w, http.StatusTooManyRequests,
				"Rate limit is exceeded. Try again in 1 seconds.")
			return
		}
		h(w, r, product)
	}
}

// providerCall wraps a sandbox provisioning handler: latency and the slow fault only.
func (s *Server) providerCall(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.delay(r) {
			h(w, r)
		}
	}
}

// delay sleeps for the configured latency plus the slow fault, if it strikes. It reports
// false when the client went away meanwhile.
func (s *Server) delay(r *http.Request) bool {
	s.mu.Lock()
	d := s.cfg.Latency + s.faults.slow()
	s.mu.Unlock()
	return sleep(r.Context(), d)
}

// sleep waits for d or until ctx is done, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// now reads the configured clock.
func (s *Server) now() time.Time {
	return s.cfg.Now()
}

// writeJSON answers status with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("momosim: encode answer: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorBody is MoMo's usual error body.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError answers status with MoMo's {"code","message"} body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorBody{Code: code, Message: message})
}

// writeGatewayError answers with the API gateway's {"statusCode","message"} body, used for
// subscription key, rate limit and unknown path answers.
func writeGatewayError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}{status, message})
}
