package momo

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultHTTPTimeout is the timeout of the HTTP client New builds when Config.HTTPClient
	// is nil.
	DefaultHTTPTimeout = 30 * time.Second
	// DefaultTokenRefreshBefore is how long before expiry a token is replaced, as MTN advises.
	DefaultTokenRefreshBefore = 10 * time.Minute
)

// ErrConfig is wrapped by every error New returns.
var ErrConfig = errors.New("momo: config")

// Config configures a Client. Only CallbackURL, HTTPClient, TokenRefreshBefore and Observer
// may be left empty.
type Config struct {
	// BaseURL is the API host, e.g. https://sandbox.momodeveloper.mtn.com or
	// https://proxy.momoapi.mtn.com. A trailing slash is tolerated. Required.
	BaseURL string
	// TargetEnvironment is sent as X-Target-Environment: sandbox, mtnuganda, mtnghana, ...
	// Required.
	TargetEnvironment string
	// APIUser is the API user ID (a UUID). Required.
	APIUser string
	// APIKey is the API user's key. Required; never appears in errors.
	APIKey string
	// SubscriptionKeys holds each product's primary subscription key. At least one product
	// is required; a call for a product without a key fails with ErrNoSubscriptionKey.
	SubscriptionKeys map[Product]string
	// CallbackURL is sent as X-Callback-Url on transfers whose TransferRequest names none.
	// Its host must equal the API user's providerCallbackHost. The payout worker uses it as
	// the base of each transfer's own callback URL (see Client.CallbackURL). Defaults to
	// empty: no header is sent.
	CallbackURL string
	// HTTPClient sends the requests. Defaults to a client with a DefaultHTTPTimeout timeout
	// that does not follow redirects (a redirected POST would be resent as a GET).
	HTTPClient *http.Client
	// TokenRefreshBefore is how long before its expiry a token is replaced. It is never more
	// than half of a token's lifetime, so short-lived tokens still get used. Defaults to
	// DefaultTokenRefreshBefore (10 minutes).
	TokenRefreshBefore time.Duration
	// Observer receives a call per HTTP round trip and per token refresh, for metrics.
	// Defaults to nil: nothing is observed.
	Observer Observer
}

// Observer receives one ObserveCall per HTTP round trip and one ObserveTokenRefresh per token
// fetch. Implementations must be safe for concurrent use and must not block.
type Observer interface {
	// ObserveCall reports a round trip to endpoint, one of "token", "transfer",
	// "transfer_status", "balance", "accountholder", "apiuser" and "apikey". status is the
	// HTTP status, or 0 when no response arrived.
	ObserveCall(p Product, endpoint string, status int, d time.Duration)
	// ObserveTokenRefresh reports a token fetch for p and its outcome.
	ObserveTokenRefresh(p Product, err error)
}

// withDefaults returns a copy of cfg with defaults filled in and the base URL normalised.
func (cfg Config) withDefaults() Config {
	cfg.BaseURL = strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout: DefaultHTTPTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if cfg.TokenRefreshBefore == 0 {
		cfg.TokenRefreshBefore = DefaultTokenRefreshBefore
	}
	return cfg
}

// validate names the first missing or malformed field, never its value.
func (cfg Config) validate() error {
	if err := validateURL("BaseURL", cfg.BaseURL, true); err != nil {
		return err
	}
	required := []struct{ name, value string }{
		{"TargetEnvironment", cfg.TargetEnvironment},
		{"APIUser", cfg.APIUser},
		{"APIKey", cfg.APIKey},
	}
	for _, f := range required {
		if strings.TrimSpace(f.value) == "" {
			return fmt.Errorf("%w: %s is required", ErrConfig, f.name)
		}
	}
	if err := validateKeys(cfg.SubscriptionKeys); err != nil {
		return err
	}
	if err := validateURL("CallbackURL", cfg.CallbackURL, false); err != nil {
		return err
	}
	if cfg.TokenRefreshBefore < 0 {
		return fmt.Errorf("%w: TokenRefreshBefore must not be negative", ErrConfig)
	}
	return nil
}

func validateKeys(keys map[Product]string) error {
	n := 0
	for p, key := range keys {
		if !p.valid() {
			return fmt.Errorf("%w: SubscriptionKeys: %w %q", ErrConfig, ErrUnknownProduct, p)
		}
		if strings.TrimSpace(key) == "" {
			return fmt.Errorf("%w: SubscriptionKeys[%s] is empty", ErrConfig, p)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%w: SubscriptionKeys is required (a key per product used)", ErrConfig)
	}
	return nil
}

// validateURL checks that raw is an absolute http or https URL; an empty raw is an error
// only when required.
func validateURL(field, raw string, required bool) error {
	if raw == "" {
		if required {
			return fmt.Errorf("%w: %s is required", ErrConfig, field)
		}
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %s must be an absolute http or https URL", ErrConfig, field)
	}
	return nil
}
