package momosim

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStats_PaidTwiceCountsPayeesPaidUnderTwoReferences(t *testing.T) {
	e := newEnv(t, Config{})
	e.mustPost(ProductDisbursement, "46733123499", "payroll-1", "1500")
	assert.Zero(t, e.sim.Stats().PaidTwice)

	e.mustPost(ProductDisbursement, "46733123499", "payroll-1", "1500.00")
	assert.Equal(t, 1, e.sim.Stats().PaidTwice, "same payee, externalId and amount")

	e.mustPost(ProductDisbursement, "46733123499", "payroll-1", "1500")
	assert.Equal(t, 1, e.sim.Stats().PaidTwice, "a payee counts once however often paid")

	e.mustPost(ProductDisbursement, "46733123499", "payroll-1", "1501")
	e.mustPost(ProductDisbursement, "46733123499", "payroll-2", "1500")
	e.mustPost(ProductDisbursement, "46733123498", "payroll-1", "1500")
	e.mustPost(ProductRemittance, "46733123499", "payroll-1", "1500")
	assert.Equal(t, 1, e.sim.Stats().PaidTwice, "other amount, externalId, payee or product")
}

func TestStats_PaidTwiceIgnoresFailedTransfers(t *testing.T) {
	e := newEnv(t, Config{})
	e.mustPost(ProductDisbursement, "46733123450", "payroll-1", "10")
	e.mustPost(ProductDisbursement, "46733123450", "payroll-1", "10")
	assert.Zero(t, e.sim.Stats().PaidTwice, "both FAILED by the test number")

	// A new attempt after a FAILED one, as an operator retry makes, is not a double payment.
	e.sim.SetBalance(ProductRemittance, "0")
	e.mustPost(ProductRemittance, "46733123499", "payroll-2", "10")
	e.sim.SetBalance(ProductRemittance, "100")
	e.mustPost(ProductRemittance, "46733123499", "payroll-2", "10")
	assert.Zero(t, e.sim.Stats().PaidTwice)
}

func TestStats_PaidTwiceCountsPendingDuplicates(t *testing.T) {
	e := newEnv(t, Config{})
	e.mustPost(ProductDisbursement, TestNumberOngoing, "payroll-1", "10")
	e.mustPost(ProductDisbursement, TestNumberOngoing, "payroll-1", "10")
	assert.Equal(t, 1, e.sim.Stats().PaidTwice)
}

// balance reads product's balance over HTTP.
func (e *env) balance(product string) map[string]any {
	e.t.Helper()
	a := e.do(http.MethodGet, "/"+product+"/v1_0/account/balance", callHeaders(product, e.token(product)), "")
	require.Equal(e.t, http.StatusOK, a.status, "body: %s", a.body)
	return a.json(e.t)
}

func TestBalance_StartsAtDefault(t *testing.T) {
	e := newEnv(t, Config{})
	assert.Equal(t, map[string]any{"availableBalance": "1000000000", "currency": "EUR"},
		e.balance(ProductDisbursement))
}

func TestBalance_TransfersDecrementUntilNotEnoughFunds(t *testing.T) {
	e := newEnv(t, Config{Balance: map[string]string{ProductDisbursement: "100.50"}})
	e.mustPost(ProductDisbursement, "46733123499", "a", "100.25")
	assert.Equal(t, "0.25", e.balance(ProductDisbursement)["availableBalance"])

	ref := e.mustPost(ProductDisbursement, "46733123499", "b", "1")
	m := e.get(ProductDisbursement, ref).json(t)
	assert.Equal(t, StatusFailed, m["status"])
	assert.Equal(t, "NOT_ENOUGH_FUNDS", reasonCode(t, m))
	assert.Equal(t, "0.25", e.balance(ProductDisbursement)["availableBalance"])

	e.mustPost(ProductDisbursement, "46733123499", "c", "0.25")
	assert.Equal(t, "0", e.balance(ProductDisbursement)["availableBalance"])
	assert.Equal(t, DefaultBalance, e.balance(ProductRemittance)["availableBalance"])
}

func TestBalance_FailedAndPendingTransfers(t *testing.T) {
	e := newEnv(t, Config{Balance: map[string]string{ProductRemittance: "50"}})
	e.mustPost(ProductRemittance, "46733123451", "rejected", "10")
	assert.Equal(t, "50", e.balance(ProductRemittance)["availableBalance"], "failed transfers spend nothing")

	e.mustPost(ProductRemittance, TestNumberDelayed, "pending", "20")
	assert.Equal(t, "30", e.balance(ProductRemittance)["availableBalance"], "pending transfers reserve")
}

func TestSetBalance_PanicsOnBadInput(t *testing.T) {
	sim := New(Config{})
	assert.Panics(t, func() { sim.SetBalance("collection", "1") })
	assert.Panics(t, func() { sim.SetBalance(ProductDisbursement, "1,5") })
	assert.Panics(t, func() { New(Config{Balance: map[string]string{ProductDisbursement: "-1"}}) })
}

func TestAccountHolder_ActiveExceptPayeeNotFound(t *testing.T) {
	e := newEnv(t, Config{})
	h := callHeaders(ProductDisbursement, e.token(ProductDisbursement))
	active := func(kind, id string) answer {
		return e.do(http.MethodGet, "/disbursement/v1_0/accountholder/"+kind+"/"+id+"/active", h, "")
	}

	assert.JSONEq(t, `{"result":true}`, string(active("msisdn", "46733123499").body))
	assert.JSONEq(t, `{"result":true}`, string(active("email", "bob@example.com").body))
	assert.JSONEq(t, `{"result":true}`, string(active("party_code", "ab12").body))
	assert.JSONEq(t, `{"result":false}`, string(active("msisdn", TestNumberPayeeNotFound).body))
	assert.Equal(t, http.StatusBadRequest, active("alias", "bob").status)
}

func TestTransfers_SnapshotInCreationOrder(t *testing.T) {
	e := newEnv(t, Config{})
	first := e.mustPost(ProductDisbursement, "46733123499", "a", "1")
	second := e.mustPost(ProductRemittance, "46733123452", "b", "2")

	got := e.sim.Transfers()
	require.Len(t, got, 2)
	assert.Equal(t, first, got[0].ReferenceID)
	assert.Equal(t, ProductDisbursement, got[0].Product)
	assert.Equal(t, StatusSuccessful, got[0].Status)
	assert.NotEmpty(t, got[0].FinancialTransactionID)
	assert.Equal(t, e.clock.Now(), got[0].CreatedAt)

	assert.Equal(t, second, got[1].ReferenceID)
	assert.Equal(t, Transfer{
		Product: ProductRemittance, ReferenceID: second, ExternalID: "b", Amount: "2",
		Currency: "EUR", PartyIDType: "MSISDN", PartyID: "46733123452",
		PayerMessage: "December salary", PayeeNote: "Thank you",
		Status: StatusFailed, Reason: "EXPIRED", CreatedAt: e.clock.Now(),
	}, got[1])
}
