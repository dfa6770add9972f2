package momo

import "strings"

// configReasons fail every payout of a batch alike: a retry or another payee will not help.
//
// NOTE: PAYER_NOT_FOUND and PAYER_LIMIT_REACHED name our own account too, but MoMo (and the
// sandbox's test numbers) return them per transfer, so they stay ordinary rejections.
var configReasons = map[string]bool{
	"NOT_ALLOWED_TARGET_ENVIRONMENT": true,
	"INVALID_CALLBACK_URL_HOST":      true,
	"INVALID_CURRENCY":               true,
	"LOGIN_FAILED":                   true,
}

// ReasonIsConfig reports whether a MoMo reason code (from an error body or from the reason of
// a FAILED transfer) means the configuration is wrong: target environment, currency, callback
// host or credentials. Case is ignored.
func ReasonIsConfig(code string) bool {
	return configReasons[normaliseReason(code)]
}

// ReasonIsInsufficientFunds reports whether a MoMo reason code means the paying account has
// not enough funds. Case is ignored.
//
// NOTE: insufficient funds has also been reported as a bare INTERNAL_PROCESSING_ERROR; that
// code is too generic to pause a batch on, so it is not counted here.
func ReasonIsInsufficientFunds(code string) bool {
	return normaliseReason(code) == "NOT_ENOUGH_FUNDS"
}

func normaliseReason(code string) string {
	return strings.ToUpper(strings.TrimSpace(code))
}
