package momosim

import (
	"crypto/rand"
	"crypto/subtle"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
)

// accessToken is an issued bearer token.
type accessToken struct {
	product string
	user    string
	expires time.Time
}

// tokenAnswer is the body of a successful token request.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// oauthError is the token endpoint's error body.
type oauthError struct {
	Error string `json:"error"`
}

// handleToken serves POST /{product}/token/.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, product string) {
	if !s.checkSubscription(w, r, product) {
		return
	}
	// NOTE: MoMo documents a request body as a cause of 400 on the token endpoint.
	if hasBody(r) {
		writeJSON(w, http.StatusBadRequest, oauthError{Error: "invalid_request"})
		return
	}
	user, key, ok := r.BasicAuth()

	s.mu.Lock()
	status, answer := s.tokenLocked(product, user, key, ok)
	s.mu.Unlock()

	writeJSON(w, status, answer)
}

// tokenLocked decides the token answer for valid-looking requests. Caller holds s.mu.
func (s *Server) tokenLocked(product, user, key string, ok bool) (int, any) {
	if !ok || !s.credentialsValidLocked(user, key) {
		return http.StatusUnauthorized, oauthError{Error: "invalid_client"}
	}
	if s.faults.take(FaultTokenLoginFailed) {
		return http.StatusInternalServerError, oauthError{Error: "login_failed"}
	}

	ttl := s.cfg.TokenTTL
	token := rand.Text()
	s.pruneTokensLocked()
	s.tokens[token] = accessToken{product: product, user: user, expires: s.now().Add(ttl)}
	s.stats.TokensIssued++
	return http.StatusOK, tokenAnswer{
		AccessToken: token,
		TokenType:   "access_token",
		ExpiresIn:   int64(math.Ceil(ttl.Seconds())),
	}
}

// credentialsValidLocked reports whether user exists and key is its API key.
func (s *Server) credentialsValidLocked(user, key string) bool {
	u, ok := s.lookupUserLocked(user)
	return ok && u.apiKey != "" && equalSecret(u.apiKey, key)
}

// pruneTokensLocked forgets expired tokens once the table has grown, so that a client
// fetching a token per call cannot grow memory without bound.
func (s *Server) pruneTokensLocked() {
	const floor = 1024
	if len(s.tokens) < floor || len(s.tokens)%floor != 0 {
		return
	}
	now := s.now()
	for k, t := range s.tokens {
		if !now.Before(t.expires) {
			delete(s.tokens, k)
		}
	}
}

// checkSubscription answers 401 and reports false unless the request carries product's
// primary subscription key. Another product's key is refused.
func (s *Server) checkSubscription(w http.ResponseWriter, r *http.Request, product string) bool {
	key := r.Header.Get("Ocp-Apim-Subscription-Key")
	if key == "" {
		writeGatewayError(w, http.StatusUnauthorized, "Access denied due to missing subscription key. "+
			"Make sure to include subscription key when making requests to an API.")
		return false
	}
	if !equalSecret(s.cfg.SubscriptionKeys[product], key) {
		writeGatewayError(w, http.StatusUnauthorized, "Access denied due to invalid subscription key. "+
			"Make sure to provide a valid key for an active subscription.")
		return false
	}
	return true
}

// checkBearer answers 401 and reports false unless the request carries an unexpired token
// issued for product. It returns the token's API user.
func (s *Server) checkBearer(w http.ResponseWriter, r *http.Request, product string) (string, bool) {
	raw, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")

	s.mu.Lock()
	user, message := s.bearerLocked(raw, found, product)
	s.mu.Unlock()

	if message != "" {
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", message)
		return "", false
	}
	return user, true
}

// bearerLocked returns the token's user, or a refusal message. Caller holds s.mu.
func (s *Server) bearerLocked(raw string, found bool, product string) (string, string) {
	if !found || raw == "" {
		return "", "Access token is missing."
	}
	t, ok := s.tokens[raw]
	switch {
	case !ok:
		return "", "Access token is invalid."
	case t.product != product:
		return "", "Access token was issued for another product."
	case !s.now().Before(t.expires):
		return "", "Access token has expired."
	case s.faults.take(FaultToken401):
		delete(s.tokens, raw)
		return "", "Access token has expired."
	}
	return t.user, ""
}

// checkEnvironment answers 500 NOT_ALLOWED_TARGET_ENVIRONMENT and reports false unless
// X-Target-Environment is the configured one.
func (s *Server) checkEnvironment(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("X-Target-Environment") != s.cfg.TargetEnvironment {
		writeError(w, http.StatusInternalServerError, "NOT_ALLOWED_TARGET_ENVIRONMENT",
			"Access to target environment is forbidden.")
		return false
	}
	return true
}

// productAuth runs the checks every bearer-authenticated product call shares: the
// subscription key, the token and the target environment. It returns the API user.
func (s *Server) productAuth(w http.ResponseWriter, r *http.Request, product string) (string, bool) {
	if !s.checkSubscription(w, r, product) {
		return "", false
	}
	user, ok := s.checkBearer(w, r, product)
	if !ok || !s.checkEnvironment(w, r) {
		return "", false
	}
	return user, true
}

// hasBody reports whether the request carries at least one body byte.
func hasBody(r *http.Request) bool {
	if r.ContentLength > 0 {
		return true
	}
	if r.Body == nil || r.ContentLength == 0 {
		return false
	}
	var b [1]byte
	n, _ := io.ReadFull(r.Body, b[:])
	return n > 0
}

// equalSecret compares two secrets in constant time.
func equalSecret(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
