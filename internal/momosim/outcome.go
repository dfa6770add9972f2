package momosim

import (
	"hash/fnv"
	"strings"
	"time"
)

// Transfer statuses as MoMo reports them.
const (
	// StatusPending is a transfer not finished yet.
	StatusPending = "PENDING"
	// StatusSuccessful is a transfer that paid the payee.
	StatusSuccessful = "SUCCESSFUL"
	// StatusFailed is a transfer that did not pay; the status carries a reason.
	StatusFailed = "FAILED"
)

// Sandbox test numbers that are not failures: they stay PENDING for a while, then succeed.
const (
	// TestNumberOngoing stays PENDING for Config.OngoingFor, then SUCCESSFUL.
	TestNumberOngoing = "46733123453"
	// TestNumberDelayed stays PENDING for Config.DelayedFor, then SUCCESSFUL.
	TestNumberDelayed = "46733123454"
	// TestNumberPayeeNotFound fails with PAYEE_NOT_FOUND and is reported inactive by the
	// account holder check.
	TestNumberPayeeNotFound = "46733123457"
)

// failingNumbers is MoMo's newer sandbox table: payee MSISDN -> FAILED reason.
var failingNumbers = map[string]string{
	"46733123450": "COULD_NOT_PERFORM_TRANSACTION",
	"46733123451": "APPROVAL_REJECTED",
	"46733123452": "EXPIRED",
	"46733123455": "NOT_ENOUGH_FUNDS",
	"46733123456": "PAYER_LIMIT_REACHED",
	"46733123457": "PAYEE_NOT_FOUND",
	"46733123458": "NOT_ALLOWED",
	"46733123459": "NOT_ALLOWED_TARGET_ENVIRONMENT",
	"46733123460": "INVALID_CALLBACK_URL_HOST",
	"46733123461": "INVALID_CURRENCY",
	"46733123462": "INTERNAL_PROCESSING_ERROR",
	"46733123463": "SERVICE_UNAVAILABLE",
}

// reasonMessages are the messages of the object form of a FAILED reason.
var reasonMessages = map[string]string{
	"COULD_NOT_PERFORM_TRANSACTION":  "Could not perform transaction.",
	"APPROVAL_REJECTED":              "Approval rejected.",
	"EXPIRED":                        "Transaction expired.",
	"NOT_ENOUGH_FUNDS":               "The payer does not have enough funds.",
	"PAYER_LIMIT_REACHED":            "The payer's limit has been breached.",
	"PAYEE_NOT_FOUND":                "The payee could not be found.",
	"NOT_ALLOWED":                    "Authorization failed. User does not have permission.",
	"NOT_ALLOWED_TARGET_ENVIRONMENT": "Access to target environment is forbidden.",
	"INVALID_CALLBACK_URL_HOST":      "Callback URL with host that is not configured.",
	"INVALID_CURRENCY":               "Currency not supported.",
	"INTERNAL_PROCESSING_ERROR":      "An internal error occurred while processing.",
	"SERVICE_UNAVAILABLE":            "Service is unavailable.",
}

// ExpectedOutcome returns the terminal status and reason the sandbox's newer test-number
// table dictates for a payee MSISDN: FAILED with the table's reason for 46733123450-52 and
// 46733123455-63, SUCCESSFUL with no reason for every other number (46733123453 and
// 46733123454 after their PENDING time). It ignores balance: a SUCCESSFUL number still
// fails with NOT_ENOUGH_FUNDS when the account cannot pay.
func ExpectedOutcome(partyID string) (status, reason string) {
	if reason, ok := failingNumbers[partyID]; ok {
		return StatusFailed, reason
	}
	return StatusSuccessful, ""
}

// pendingTime is how long a transfer to the payee stays PENDING.
func (s *Server) pendingTime(partyIDType, partyID string) time.Duration {
	if partyIDType == "MSISDN" {
		switch partyID {
		case TestNumberOngoing:
			return s.cfg.OngoingFor
		case TestNumberDelayed:
			return s.cfg.DelayedFor
		}
	}
	return s.cfg.PendingFor
}

// variant picks, deterministically by reference ID, which of MoMo's observed forms a
// status uses: reason as an object or a string, financialTransactionId as a number or a
// string.
func variant(ref string) (reasonObject, numericID bool) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(ref)))
	sum := h.Sum32()
	return sum&1 == 1, sum&2 == 2
}
