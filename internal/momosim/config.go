package momosim

import (
	"fmt"
	"maps"
	"time"
)

// Products the simulator serves. Collection is not simulated.
const (
	// ProductDisbursement is the Disbursement product, served under /disbursement.
	ProductDisbursement = "disbursement"
	// ProductRemittance is the Remittance product, served under /remittance.
	ProductRemittance = "remittance"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultAPIUser is the pre-provisioned API user (a version-4 UUID).
	DefaultAPIUser = "3f1d2c9e-7a4b-4c1e-9f2a-5b6d7e8f9a01"
	// DefaultAPIKey is the API key of DefaultAPIUser.
	DefaultAPIKey = "test-api-key"
	// DefaultDisbursementKey is the Disbursement product's primary subscription key.
	DefaultDisbursementKey = "sim-disbursement-primary-key"
	// DefaultRemittanceKey is the Remittance product's primary subscription key.
	DefaultRemittanceKey = "sim-remittance-primary-key"
	// DefaultTargetEnvironment is the accepted X-Target-Environment.
	DefaultTargetEnvironment = "sandbox"
	// DefaultTokenTTL is the lifetime of issued access tokens.
	DefaultTokenTTL = time.Hour
	// DefaultOngoingFor is how long the "ongoing" test number stays PENDING.
	DefaultOngoingFor = 30 * time.Second
	// DefaultDelayedFor is how long the "delayed" test number stays PENDING.
	DefaultDelayedFor = 60 * time.Second
	// DefaultBalance is each product's opening available balance.
	DefaultBalance = "1000000000"
)

// environmentCurrency is the one currency each target environment takes.
var environmentCurrency = map[string]string{
	"sandbox":          "EUR",
	"mtnuganda":        "UGX",
	"mtnghana":         "GHS",
	"mtnivorycoast":    "XOF",
	"mtnzambia":        "ZMW",
	"mtncameroon":      "XAF",
	"mtnbenin":         "XOF",
	"mtncongo":         "XAF",
	"mtnswaziland":     "SZL",
	"mtnguineaconakry": "GNF",
	"mtnsouthafrica":   "ZAR",
	"mtnliberia":       "LRD",
	"mtnrwanda":        "RWF",
}

// Config configures a Server. The zero value is a usable sandbox.
type Config struct {
	// TargetEnvironment is the only X-Target-Environment accepted. Defaults to "sandbox".
	TargetEnvironment string
	// Currency is the only currency accepted in transfers and reported with the balance.
	// Defaults to the target environment's currency (EUR for sandbox, UGX for mtnuganda, ...;
	// EUR for an environment the simulator does not know).
	Currency string
	// APIUser is the pre-provisioned API user accepted by Basic auth. Defaults to DefaultAPIUser.
	APIUser string
	// APIKey is APIUser's key. Defaults to DefaultAPIKey.
	APIKey string
	// SubscriptionKeys maps a product ("disbursement", "remittance") to its primary
	// subscription key. Defaults to DefaultDisbursementKey and DefaultRemittanceKey.
	SubscriptionKeys map[string]string
	// CallbackHost is APIUser's providerCallbackHost: an X-Callback-Url naming another host is
	// refused with 400 INVALID_CALLBACK_URL_HOST. Defaults to "" (any host accepted).
	CallbackHost string
	// TokenTTL is the expires_in of issued tokens; expired tokens get 401. Defaults to 1 h.
	TokenTTL time.Duration
	// PendingFor is how long an ordinary transfer stays PENDING before it is terminal.
	// Defaults to 0 (terminal at once).
	PendingFor time.Duration
	// OngoingFor is how long the test number 46733123453 stays PENDING before SUCCESSFUL.
	// Defaults to 30 s.
	OngoingFor time.Duration
	// DelayedFor is how long the test number 46733123454 stays PENDING before SUCCESSFUL.
	// Defaults to 60 s.
	DelayedFor time.Duration
	// Latency is added to every MoMo answer (not to /_sim/ answers). Defaults to 0.
	Latency time.Duration
	// Balance maps a product to its opening available balance, a decimal string with at
	// most two decimals. Transfers decrement it; a transfer that would take it below zero is
	// created but FAILED with NOT_ENOUGH_FUNDS. Defaults to "1000000000" for each product.
	Balance map[string]string
	// Faults are the fault probabilities applied per request. Defaults to none.
	Faults Faults
	// Seed seeds the fault randomness. Defaults to 0, which means a time-based seed.
	Seed int64
	// Now is the clock every expiry and status is computed from. Defaults to time.Now.
	Now func() time.Time
}

// withDefaults returns a copy of c with every zero field set to its default. The maps are
// copied so that the caller's maps are never shared with the server.
func (c Config) withDefaults() Config {
	if c.TargetEnvironment == "" {
		c.TargetEnvironment = DefaultTargetEnvironment
	}
	if c.Currency == "" {
		c.Currency = environmentCurrency[c.TargetEnvironment]
		if c.Currency == "" {
			c.Currency = "EUR"
		}
	}
	if c.APIUser == "" {
		c.APIUser = DefaultAPIUser
	}
	if c.APIKey == "" {
		c.APIKey = DefaultAPIKey
	}
	c.SubscriptionKeys = withProductDefaults(c.SubscriptionKeys, map[string]string{
		ProductDisbursement: DefaultDisbursementKey,
		ProductRemittance:   DefaultRemittanceKey,
	})
	c.Balance = withProductDefaults(c.Balance, map[string]string{
		ProductDisbursement: DefaultBalance,
		ProductRemittance:   DefaultBalance,
	})
	c.TokenTTL = durationOr(c.TokenTTL, DefaultTokenTTL)
	c.OngoingFor = durationOr(c.OngoingFor, DefaultOngoingFor)
	c.DelayedFor = durationOr(c.DelayedFor, DefaultDelayedFor)
	if c.Seed == 0 {
		c.Seed = time.Now().UnixNano()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Faults = c.Faults.clamped()
	return c
}

// validate reports the first field of a defaulted Config that New cannot work with.
func (c Config) validate() error {
	for _, m := range []map[string]string{c.SubscriptionKeys, c.Balance} {
		for p := range m {
			if !validProduct(p) {
				return fmt.Errorf("momosim: config: unknown product %q", p)
			}
		}
	}
	for p, amount := range c.Balance {
		if _, err := parseAmount(amount, true); err != nil {
			return fmt.Errorf("momosim: config: balance of %s: %w", p, err)
		}
	}
	return nil
}

// withProductDefaults copies m and fills in the products it lacks from defaults.
func withProductDefaults(m, defaults map[string]string) map[string]string {
	out := maps.Clone(defaults)
	for k, v := range m {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// durationOr returns d, or def when d is not positive.
func durationOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// validProduct reports whether p names a product the simulator serves.
func validProduct(p string) bool {
	return p == ProductDisbursement || p == ProductRemittance
}
