package momosim

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// adminRoutes registers the /_sim/ endpoints. They are not part of MoMo: tests, the demo
// and the chaos run use them to inspect and steer the simulator. They take no latency,
// faults or credentials.
func (s *Server) adminRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /_sim/transfers", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Transfers())
	})
	m.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	m.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		f := s.faults.probs
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, f)
	})
	m.HandleFunc("PUT /_sim/faults", s.handleSetFaults)
	m.HandleFunc("POST /_sim/inject", s.handleInject)
	m.HandleFunc("PUT /_sim/balance", s.handleSetBalance)
	m.HandleFunc("PUT /_sim/token-ttl", s.handleSetTokenTTL)
}

// handleSetFaults serves PUT /_sim/faults with a JSON Faults body.
func (s *Server) handleSetFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes)).Decode(&f); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "faults: "+err.Error())
		return
	}
	if err := f.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}
	s.SetFaults(f)
	w.WriteHeader(http.StatusNoContent)
}

// handleInject serves POST /_sim/inject?kind=...&n=... (n defaults to 1).
func (s *Server) handleInject(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	if !ValidFaultKind(kind) {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "unknown fault kind "+strconv.Quote(kind))
		return
	}
	n := 1
	if raw := r.URL.Query().Get("n"); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "n must be an integer")
			return
		}
		n = v
	}
	s.InjectNext(kind, n)
	w.WriteHeader(http.StatusNoContent)
}

// handleSetBalance serves PUT /_sim/balance?product=...&amount=....
func (s *Server) handleSetBalance(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := s.setBalance(q.Get("product"), q.Get("amount")); err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleSetTokenTTL serves PUT /_sim/token-ttl?d=3s.
func (s *Server) handleSetTokenTTL(w http.ResponseWriter, r *http.Request) {
	d, err := time.ParseDuration(r.URL.Query().Get("d"))
	if err != nil || d <= 0 {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "d must be a positive duration like 3s")
		return
	}
	s.SetTokenTTL(d)
	w.WriteHeader(http.StatusNoContent)
}
