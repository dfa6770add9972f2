package momosim

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpectedOutcome_FollowsNewerTable(t *testing.T) {
	cases := map[string]string{
		"46733123450":  "COULD_NOT_PERFORM_TRANSACTION",
		"46733123451":  "APPROVAL_REJECTED",
		"46733123452":  "EXPIRED",
		"46733123453":  "",
		"46733123454":  "",
		"46733123455":  "NOT_ENOUGH_FUNDS",
		"46733123456":  "PAYER_LIMIT_REACHED",
		"46733123457":  "PAYEE_NOT_FOUND",
		"46733123458":  "NOT_ALLOWED",
		"46733123459":  "NOT_ALLOWED_TARGET_ENVIRONMENT",
		"46733123460":  "INVALID_CALLBACK_URL_HOST",
		"46733123461":  "INVALID_CURRENCY",
		"46733123462":  "INTERNAL_PROCESSING_ERROR",
		"46733123463":  "SERVICE_UNAVAILABLE",
		"46733123464":  "",
		"256772123456": "",
	}
	for number, wantReason := range cases {
		status, reason := ExpectedOutcome(number)
		assert.Equal(t, wantReason, reason, number)
		if wantReason == "" {
			assert.Equal(t, StatusSuccessful, status, number)
		} else {
			assert.Equal(t, StatusFailed, status, number)
		}
	}
}

func TestTransfer_TestNumbersEndAsTableSays(t *testing.T) {
	e := newEnv(t, Config{})
	numbers := []string{"46733123464", "256772123456"}
	for n := 50; n <= 63; n++ {
		numbers = append(numbers, fmt.Sprintf("467331234%02d", n))
	}
	refs := map[string]string{}
	for _, number := range numbers {
		refs[number] = e.mustPost(ProductDisbursement, number, "x", "1")
	}
	e.clock.Advance(DefaultDelayedFor)

	for number, ref := range refs {
		wantStatus, wantReason := ExpectedOutcome(number)
		a := e.get(ProductDisbursement, ref)
		require.Equal(t, http.StatusOK, a.status, "%s: %s", number, a.body)
		m := a.json(t)
		assert.Equal(t, wantStatus, m["status"], number)
		assert.Equal(t, wantReason, reasonCode(t, m), number)
		if wantStatus == StatusFailed {
			assert.NotContains(t, m, "financialTransactionId", number)
		} else {
			assert.NotEmpty(t, m["financialTransactionId"], number)
		}
	}
}

func TestTransfer_PendingForThenSuccessful(t *testing.T) {
	e := newEnv(t, Config{PendingFor: 5 * time.Second})
	ref := e.mustPost(ProductDisbursement, "46733123499", "x", "1")

	m := e.get(ProductDisbursement, ref).json(t)
	assert.Equal(t, StatusPending, m["status"])
	assert.NotContains(t, m, "financialTransactionId")
	assert.NotContains(t, m, "reason")
	assert.Equal(t, StatusPending, e.sim.Transfers()[0].Status)

	e.clock.Advance(5*time.Second - time.Millisecond)
	assert.Equal(t, StatusPending, e.get(ProductDisbursement, ref).json(t)["status"])

	e.clock.Advance(time.Millisecond)
	m = e.get(ProductDisbursement, ref).json(t)
	assert.Equal(t, StatusSuccessful, m["status"])
	assert.NotEmpty(t, m["financialTransactionId"])
	assert.NotEmpty(t, e.sim.Transfers()[0].FinancialTransactionID)
}

func TestTransfer_FailingNumbersAlsoWaitPendingFor(t *testing.T) {
	e := newEnv(t, Config{PendingFor: time.Second})
	ref := e.mustPost(ProductDisbursement, "46733123451", "x", "1")

	assert.Equal(t, StatusPending, e.get(ProductDisbursement, ref).json(t)["status"])
	e.clock.Advance(time.Second)
	m := e.get(ProductDisbursement, ref).json(t)
	assert.Equal(t, StatusFailed, m["status"])
	assert.Equal(t, "APPROVAL_REJECTED", reasonCode(t, m))
}

func TestTransfer_OngoingAndDelayedNumbersStayPending(t *testing.T) {
	e := newEnv(t, Config{OngoingFor: 30 * time.Second, DelayedFor: 60 * time.Second})
	ongoing := e.mustPost(ProductDisbursement, TestNumberOngoing, "x", "1")
	delayed := e.mustPost(ProductDisbursement, TestNumberDelayed, "x", "1")
	status := func(ref string) any { return e.get(ProductDisbursement, ref).json(t)["status"] }

	e.clock.Advance(29 * time.Second)
	assert.Equal(t, StatusPending, status(ongoing))
	assert.Equal(t, StatusPending, status(delayed))

	e.clock.Advance(time.Second)
	assert.Equal(t, StatusSuccessful, status(ongoing))
	assert.Equal(t, StatusPending, status(delayed))

	e.clock.Advance(30 * time.Second)
	assert.Equal(t, StatusSuccessful, status(delayed))
}

func TestTransfer_TestNumbersApplyToMSISDNOnly(t *testing.T) {
	e := newEnv(t, Config{})
	ref := "00000000-0000-4000-8000-000000000001"
	body := bodyWith("payee", map[string]string{"partyIdType": "PARTY_CODE", "partyId": "46733123450"})
	a := e.do(http.MethodPost, "/disbursement/v1_0/transfer",
		postHeaders(ProductDisbursement, e.token(ProductDisbursement), ref), body)
	require.Equal(t, http.StatusAccepted, a.status)

	assert.Equal(t, StatusSuccessful, e.get(ProductDisbursement, ref).json(t)["status"])
}
