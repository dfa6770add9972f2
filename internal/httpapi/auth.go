package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/momopay/payout/internal/config"
)

// Environment variables of the monitor's credentials. Each may name a file instead, with
// _FILE appended (PAYOUT_MONITOR_PASSWORD_FILE=/run/secrets/monitor_password).
const (
	EnvMonitorUser     = "PAYOUT_MONITOR_USER"
	EnvMonitorPassword = "PAYOUT_MONITOR_PASSWORD"
)

// MinPasswordLen is the shortest monitor password accepted: the monitor can delete and run
// payout tasks.
const MinPasswordLen = 12

// Credentials are the user name and password that HTTP basic auth asks for.
type Credentials struct {
	User     string
	Password string // never logged nor shown in errors
}

// CredentialsFromEnv reads the monitor's credentials. It returns nil when neither variable is
// set, and an error naming the variable when only one is, when the user name holds a ':'
// (basic auth cannot carry it) or when the password is shorter than MinPasswordLen.
func CredentialsFromEnv(getenv config.Getenv) (*Credentials, error) {
	user, err := config.Secret(getenv, EnvMonitorUser)
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	password, err := config.Secret(getenv, EnvMonitorPassword)
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	switch {
	case user == "" && password == "":
		return nil, nil
	case user == "" || password == "":
		return nil, fmt.Errorf("httpapi: set both %s and %s (or their _FILE variants)",
			EnvMonitorUser, EnvMonitorPassword)
	case strings.Contains(user, ":"):
		return nil, fmt.Errorf("httpapi: %s must not contain ':'", EnvMonitorUser)
	case len(password) < MinPasswordLen:
		return nil, fmt.Errorf("httpapi: %s must have at least %d characters",
			EnvMonitorPassword, MinPasswordLen)
	}
	return &Credentials{User: user, Password: password}, nil
}

// ErrExposed is returned by CheckExposure for a non-loopback address without credentials.
var ErrExposed = errors.New("httpapi: the monitor would be open to the network")

// CheckExposure refuses an address that binds more than the loopback interface unless
// credentials are set: the monitor has no authentication of its own.
func CheckExposure(addr string, creds *Credentials) error {
	if creds != nil || IsLoopback(addr) {
		return nil
	}
	return fmt.Errorf("%w: -monitor-addr %q is not a loopback address; set %s and %s "+
		"(or their _FILE variants) to require a password, or bind 127.0.0.1",
		ErrExposed, addr, EnvMonitorUser, EnvMonitorPassword)
}

// IsLoopback reports whether listen address addr binds only a loopback interface:
// 127.0.0.1:8080, [::1]:8080 and localhost:8080 do; :8080 and 0.0.0.0:8080 bind them all.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// requireAuth serves next only to requests that carry creds. Both parts are compared in
// constant time, as digests, so that neither their content nor their length shows in the
// response time.
func requireAuth(creds *Credentials, next http.Handler) http.Handler {
	if creds == nil {
		return next
	}
	wantUser := sha256.Sum256([]byte(creds.User))
	wantPassword := sha256.Sum256([]byte(creds.Password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, _ := r.BasicAuth()
		gotUser := sha256.Sum256([]byte(user))
		gotPassword := sha256.Sum256([]byte(password))
		userOK := subtle.ConstantTimeCompare(gotUser[:], wantUser[:])
		passwordOK := subtle.ConstantTimeCompare(gotPassword[:], wantPassword[:])
		if userOK&passwordOK != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="payout worker", charset="UTF-8"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses a request that changes something (any method but GET, HEAD and
// OPTIONS) when the browser says it comes from another site: with basic auth the browser
// would otherwise send the saved password along with a forged form post. Browsers that send
// Sec-Fetch-Site are believed; for others, an Origin header must name the host asked
// (directly or through a proxy's X-Forwarded-Host). Clients that are not browsers send
// neither header and pass.
func sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		ok := true
		switch r.Header.Get("Sec-Fetch-Site") {
		case "same-origin", "none":
		case "":
			origin := r.Header.Get("Origin")
			ok = origin == "" || originMatches(origin, r.Host) ||
				originMatches(origin, r.Header.Get("X-Forwarded-Host"))
		default: // same-site, cross-site
			ok = false
		}
		if !ok {
			http.Error(w, "cross-site request refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originMatches reports whether an Origin header names host.
func originMatches(origin, host string) bool {
	_, rest, ok := strings.Cut(origin, "://")
	return ok && host != "" && strings.EqualFold(rest, host)
}
