package batch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/momopay/payout/internal/money"
)

// Limits on cell lengths, counted in characters (runes).
const (
	// DefaultMaxMessageLen is the default for Options.MaxMessageLen: MoMo's limit on
	// payerMessage and payeeNote.
	DefaultMaxMessageLen = 160
	// MaxExternalIDLen is the longest external_id accepted.
	MaxExternalIDLen = 64
	// MaxNameLen is the longest name accepted.
	MaxNameLen = 100
	// MaxPartyCodeLen is the longest PARTY_CODE party ID accepted.
	MaxPartyCodeLen = 64
)

// envCurrencies lists the currencies each MoMo target environment accepts.
var envCurrencies = map[string][]string{
	"sandbox":          {"EUR"},
	"mtnuganda":        {"UGX"},
	"mtnghana":         {"GHS"},
	"mtnivorycoast":    {"XOF"},
	"mtnzambia":        {"ZMW"},
	"mtncameroon":      {"XAF"},
	"mtnbenin":         {"XOF"},
	"mtncongo":         {"XAF"},
	"mtnswaziland":     {"SZL"},
	"mtnguineaconakry": {"GNF"},
	"mtnsouthafrica":   {"ZAR"},
	"mtnliberia":       {"LRD", "USD"},
	"mtnrwanda":        {"RWF"},
}

// Options configure a Reader.
type Options struct {
	// File is the file name used in error messages. Defaults to none: messages then start
	// with "batch: line N".
	File string
	// DefaultCurrency is used when the file has no currency column or a row's currency cell
	// is empty. Defaults to none: the file must then have a currency column.
	DefaultCurrency string
	// Country is an ISO 3166 alpha-2 code (UG, GH, CI, ...) whose calling code replaces the
	// leading 0 of local phone numbers. Defaults to none: local numbers are then refused.
	Country string
	// TargetEnvironment is the MoMo X-Target-Environment ("sandbox", "mtnuganda", ...); a
	// row's currency must be one that environment accepts. Defaults to none: any currency
	// the money package knows is accepted.
	TargetEnvironment string
	// MaxMessageLen is the longest payer_message and payee_note accepted, in characters
	// (runes). Defaults to DefaultMaxMessageLen (160).
	MaxMessageLen int
}

// withDefaults returns a copy of o with zero fields set to their defaults and codes put in
// their canonical case.
func (o Options) withDefaults() Options {
	if o.MaxMessageLen == 0 {
		o.MaxMessageLen = DefaultMaxMessageLen
	}
	o.DefaultCurrency = strings.ToUpper(strings.TrimSpace(o.DefaultCurrency))
	o.Country = strings.ToUpper(strings.TrimSpace(o.Country))
	o.TargetEnvironment = strings.ToLower(strings.TrimSpace(o.TargetEnvironment))
	return o
}

// validate names the first option that cannot work.
func (o Options) validate() error {
	if o.MaxMessageLen < 0 {
		return fmt.Errorf("batch: options: MaxMessageLen is %d, must not be negative",
			o.MaxMessageLen)
	}
	if o.TargetEnvironment != "" {
		if _, ok := envCurrencies[o.TargetEnvironment]; !ok {
			return fmt.Errorf("batch: options: unknown target environment %q",
				o.TargetEnvironment)
		}
	}
	if o.Country != "" {
		if _, ok := callingCodes[o.Country]; !ok {
			return fmt.Errorf("batch: options: unknown country %q", o.Country)
		}
	}
	if o.DefaultCurrency != "" {
		if reason := checkCurrency(o.DefaultCurrency, o.TargetEnvironment); reason != "" {
			return fmt.Errorf("batch: options: default currency: %s", reason)
		}
	}
	return nil
}

// checkCurrency returns why an upper-case currency code cannot be used in the target
// environment, or "" when it can.
func checkCurrency(currency, env string) string {
	if _, ok := money.MinorUnits(currency); !ok {
		return fmt.Sprintf("unknown currency %q", currency)
	}
	if env == "" {
		return ""
	}
	allowed := envCurrencies[env]
	if !slices.Contains(allowed, currency) {
		return fmt.Sprintf("currency %s is not accepted in target environment %s (allowed: %s)",
			currency, env, strings.Join(allowed, ", "))
	}
	return ""
}
