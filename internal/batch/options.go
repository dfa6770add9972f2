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

// Limits on the file as a whole.
const (
	// DefaultMaxFileBytes is the default for Options.MaxFileBytes: 100 MiB.
	DefaultMaxFileBytes = 100 << 20
	// DefaultMaxRows is the default for Options.MaxRows: one million data rows.
	DefaultMaxRows = 1_000_000
	// DefaultMaxLineBytes is the default for Options.MaxLineBytes: 64 KiB per record.
	DefaultMaxLineBytes = 64 << 10
)

// Values of Options.Encoding, and what Reader.Encoding reports.
const (
	// EncodingAuto detects the encoding: see Options.Encoding.
	EncodingAuto = "auto"
	// EncodingUTF8 is UTF-8, with or without a byte order mark.
	EncodingUTF8 = "utf-8"
	// EncodingUTF16LE is UTF-16, little-endian; only recognised by its byte order mark.
	EncodingUTF16LE = "utf-16le"
	// EncodingUTF16BE is UTF-16, big-endian; only recognised by its byte order mark.
	EncodingUTF16BE = "utf-16be"
	// EncodingWindows1252 is the Western European code page Excel uses on Windows.
	EncodingWindows1252 = "windows-1252"
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
	// (runes), after the replacements described in validate.go. Defaults to
	// DefaultMaxMessageLen (160).
	MaxMessageLen int

	// HeaderLine is the 1-based physical line that holds the header; the lines before it
	// (guidance text above the table) are skipped unread. Defaults to 0: the first
	// non-blank line.
	HeaderLine int
	// ColumnMap maps our field names (msisdn, amount, currency, external_id,
	// payer_message, payee_note, name, party_id_type) to the header text of the file's
	// column that holds the field, compared like aliases are (case, spaces, '_' and '-'
	// ignored). A mapped field takes that column and ignores its aliases; unmapped fields
	// are still found by alias. An unknown field name is an options error, a mapped header
	// the file lacks a *HeaderError. ParseColumnMap reads the command-line form. Defaults
	// to none.
	ColumnMap map[string]string
	// DecimalComma says amounts use ',' as the decimal point, with '.' or spaces between
	// thousands ("1.500,50", "1 500,50"). Defaults to false: '.' is the decimal point and
	// ',' or spaces may separate thousands ("1,500.50"). The whole rule is at cleanAmount.
	DecimalComma bool
	// Encoding is the file's character encoding: EncodingAuto, EncodingUTF8 or
	// EncodingWindows1252. A UTF-16 or UTF-8 byte order mark is always honoured, and it
	// must not contradict a forced encoding. In auto mode a file whose first 64 KiB are not
	// valid UTF-8 is read as Windows-1252; in UTF-8 mode invalid UTF-8 is a row error.
	// Reader.Encoding reports the choice. Defaults to EncodingAuto.
	Encoding string
	// StrictMessages makes the characters MoMo refuses in payer_message and payee_note a
	// row error instead of replacing them with a warning (see validate.go). Defaults to
	// false.
	StrictMessages bool

	// MaxFileBytes is the largest file read, in bytes as they come in, before any
	// decoding; reading fails with a *ReadError once it is passed. Defaults to
	// DefaultMaxFileBytes (100 MiB); a negative value means no limit.
	MaxFileBytes int64
	// MaxRows is the most data rows read, valid and invalid, not counting blank rows and
	// repeated headers; the row after the last one allowed is a fatal *ReadError. Defaults
	// to DefaultMaxRows (1,000,000); a negative value means no limit.
	MaxRows int
	// MaxLineBytes is the longest record read, header included, in bytes; a record with a
	// quoted cell may span lines. Defaults to DefaultMaxLineBytes (64 KiB).
	MaxLineBytes int
}

// withDefaults returns a copy of o with zero fields set to their defaults and codes put in
// their canonical case.
func (o Options) withDefaults() Options {
	if o.MaxMessageLen == 0 {
		o.MaxMessageLen = DefaultMaxMessageLen
	}
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxRows == 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.MaxLineBytes == 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	o.Encoding = strings.ToLower(strings.TrimSpace(o.Encoding))
	if o.Encoding == "" {
		o.Encoding = EncodingAuto
	}
	o.DefaultCurrency = strings.ToUpper(strings.TrimSpace(o.DefaultCurrency))
	o.Country = strings.ToUpper(strings.TrimSpace(o.Country))
	o.TargetEnvironment = strings.ToLower(strings.TrimSpace(o.TargetEnvironment))
	return o
}

// validate names the first option that cannot work.
func (o Options) validate() error {
	if err := o.validateLimits(); err != nil {
		return err
	}
	switch o.Encoding {
	case EncodingAuto, EncodingUTF8, EncodingWindows1252:
	default:
		return fmt.Errorf("batch: options: unknown encoding %q (use %s, %s or %s)",
			o.Encoding, EncodingAuto, EncodingUTF8, EncodingWindows1252)
	}
	if _, err := resolveColumnMap(o.ColumnMap); err != nil {
		return fmt.Errorf("batch: options: %w", err)
	}
	if o.TargetEnvironment != "" {
		if _, ok := envCurrencies[o.TargetEnvironment]; !ok {
			return fmt.Errorf("batch: options: unknown target environment %q",
				o.TargetEnvironment)
		}
	}
	if o.Country != "" {
		if _, ok := numberPlans[o.Country]; !ok {
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

// validateLimits names the first numeric option out of range.
func (o Options) validateLimits() error {
	switch {
	case o.MaxMessageLen < 0:
		return fmt.Errorf("batch: options: MaxMessageLen is %d, must not be negative",
			o.MaxMessageLen)
	case o.HeaderLine < 0:
		return fmt.Errorf("batch: options: HeaderLine is %d, must not be negative",
			o.HeaderLine)
	case o.MaxLineBytes < 0:
		return fmt.Errorf("batch: options: MaxLineBytes is %d, must not be negative",
			o.MaxLineBytes)
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
