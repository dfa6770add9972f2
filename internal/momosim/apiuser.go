package momosim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// NOTE: sandbox provisioning accepts any product's subscription key; the API user it
// creates can then fetch tokens for every product whose key it presents.

// handleCreateUser serves POST /v1_0/apiuser.
func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	if !s.checkAnySubscription(w, r) {
		return
	}
	id := r.Header.Get("X-Reference-Id")
	if !isUUIDv4(id) {
		writeError(w, http.StatusBadRequest, "INVALID_REFERENCE_ID",
			"X-Reference-Id must be a UUID in version-4 form.")
		return
	}
	var body struct {
		ProviderCallbackHost string `json:"providerCallbackHost"`
	}
	err := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes)).Decode(&body)
	host := strings.TrimSpace(body.ProviderCallbackHost)
	if err != nil || host == "" {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST",
			"Body must be {\"providerCallbackHost\": \"<host name>\"}.")
		return
	}

	s.mu.Lock()
	_, exists := s.users[strings.ToLower(id)]
	if !exists {
		s.users[strings.ToLower(id)] = &apiUser{callbackHost: host}
	}
	s.mu.Unlock()

	if exists {
		writeError(w, http.StatusConflict, "RESOURCE_ALREADY_EXIST",
			"Duplicated reference id. Creation of resource failed.")
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// handleCreateKey serves POST /v1_0/apiuser/{id}/apikey. A new key replaces the old one.
func (s *Server) handleCreateKey(w http.ResponseWriter, r *http.Request) {
	if !s.checkAnySubscription(w, r) {
		return
	}
	key := newAPIKey()

	s.mu.Lock()
	u, ok := s.lookupUserLocked(r.PathValue("id"))
	if ok {
		u.apiKey = key
	}
	s.mu.Unlock()

	if !ok {
		writeError(w, http.StatusNotFound, "RESOURCE_NOT_FOUND", "Requested resource was not found.")
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		APIKey string `json:"apiKey"`
	}{key})
}

// handleGetUser serves GET /v1_0/apiuser/{id}.
func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	if !s.checkAnySubscription(w, r) {
		return
	}

	s.mu.Lock()
	u, ok := s.lookupUserLocked(r.PathValue("id"))
	host := ""
	if ok {
		host = u.callbackHost
	}
	s.mu.Unlock()

	if !ok {
		writeError(w, http.StatusNotFound, "RESOURCE_NOT_FOUND", "Requested resource was not found.")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ProviderCallbackHost string `json:"providerCallbackHost"`
		TargetEnvironment    string `json:"targetEnvironment"`
	}{host, DefaultTargetEnvironment})
}

// lookupUserLocked finds an API user by ID, in any case. Caller holds s.mu.
func (s *Server) lookupUserLocked(id string) (*apiUser, bool) {
	if u, ok := s.users[id]; ok {
		return u, true
	}
	u, ok := s.users[strings.ToLower(id)]
	return u, ok
}

// checkAnySubscription answers 401 and reports false unless the request carries one of
// the configured subscription keys.
func (s *Server) checkAnySubscription(w http.ResponseWriter, r *http.Request) bool {
	key := r.Header.Get("Ocp-Apim-Subscription-Key")
	for _, want := range s.cfg.SubscriptionKeys {
		if equalSecret(want, key) {
			return true
		}
	}
	writeGatewayError(w, http.StatusUnauthorized, "Access denied due to invalid subscription key. "+
		"Make sure to provide a valid key for an active subscription.")
	return false
}

// newAPIKey returns a fresh random API key of 32 hex digits, like the sandbox's.
func newAPIKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
