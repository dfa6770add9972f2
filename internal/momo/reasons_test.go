package momo

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReasonIsConfig(t *testing.T) {
	for _, code := range []string{"NOT_ALLOWED_TARGET_ENVIRONMENT", "INVALID_CALLBACK_URL_HOST",
		"INVALID_CURRENCY", "login_failed", " invalid_currency "} {
		assert.True(t, ReasonIsConfig(code), code)
	}
	for _, code := range []string{"", "NOT_ENOUGH_FUNDS", "PAYEE_NOT_FOUND", "PAYER_LIMIT_REACHED",
		"INTERNAL_PROCESSING_ERROR", "NOT_ALLOWED"} {
		assert.False(t, ReasonIsConfig(code), code)
	}
}

func TestReasonIsInsufficientFunds(t *testing.T) {
	assert.True(t, ReasonIsInsufficientFunds("NOT_ENOUGH_FUNDS"))
	assert.True(t, ReasonIsInsufficientFunds("not_enough_funds"))
	assert.False(t, ReasonIsInsufficientFunds("INTERNAL_PROCESSING_ERROR"))
	assert.False(t, ReasonIsInsufficientFunds(""))
}
