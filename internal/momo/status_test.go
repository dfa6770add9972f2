package momo

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveStatus serves GET transfer for testRef with the given status and body.
func (f *fixture) serveStatus(p Product, reply func(w http.ResponseWriter, n int32)) *atomic.Int32 {
	calls := &atomic.Int32{}
	path := "/" + string(p) + "/v1_0/transfer/" + testRef
	f.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		assert.Equal(f.t, http.MethodGet, r.Method)
		assert.Zero(f.t, r.ContentLength)
		checkAPIHeaders(f.t, r, p, tokenValue(p, n))
		reply(w, n)
	})
	return calls
}

func getStatus(t *testing.T, body string) *TransferStatus {
	t.Helper()
	f := setup(t)
	f.serveToken(Remittance, nil)
	f.serveStatus(Remittance, func(w http.ResponseWriter, _ int32) {
		writeJSON(w, http.StatusOK, body)
	})
	st, err := f.client.GetTransfer(context.Background(), Remittance, testRef)
	require.NoError(t, err)
	return st
}

func TestGetTransfer_DecodesSuccessfulTransfer(t *testing.T) {
	st := getStatus(t, `{"amount":"1500","currency":"EUR","financialTransactionId":"363440463",
		"externalId":"payroll-7-0001","payee":{"partyIdType":"MSISDN","partyId":"46733123450"},
		"payerMessage":"December salary","payeeNote":"Thank you","status":"SUCCESSFUL"}`)

	assert.Equal(t, &TransferStatus{
		ReferenceID:            testRef,
		Amount:                 "1500",
		Currency:               "EUR",
		FinancialTransactionID: "363440463",
		ExternalID:             "payroll-7-0001",
		Payee:                  Party{PartyIDType: "MSISDN", PartyID: "46733123450"},
		PayerMessage:           "December salary",
		PayeeNote:              "Thank you",
		Status:                 StatusSuccessful,
	}, st)
	assert.True(t, st.Terminal())
}

func TestGetTransfer_ReasonAsString(t *testing.T) {
	st := getStatus(t,
		`{"amount":"1500","currency":"EUR","status":"FAILED","reason":"NOT_ENOUGH_FUNDS"}`)

	assert.Equal(t, StatusFailed, st.Status)
	assert.Equal(t, "NOT_ENOUGH_FUNDS", st.Reason)
	assert.Empty(t, st.ReasonMessage)
	assert.True(t, st.Terminal())
	assert.True(t, ReasonIsInsufficientFunds(st.Reason))
}

func TestGetTransfer_ReasonAsObject(t *testing.T) {
	st := getStatus(t, `{"status":"FAILED",
		"reason":{"code":"PAYEE_NOT_FOUND","message":"Payee does not exist"}}`)

	assert.Equal(t, "PAYEE_NOT_FOUND", st.Reason)
	assert.Equal(t, "Payee does not exist", st.ReasonMessage)
}

func TestGetTransfer_NumericFieldsKeepEveryDigit(t *testing.T) {
	st := getStatus(t, `{"amount":1500,"currency":"EUR","financialTransactionId":1234567890123456789,
		"externalId":9007199254740993,"payee":{"partyIdType":"MSISDN","partyId":46733123450},
		"status":"successful","reason":null}`)

	assert.Equal(t, "1500", st.Amount)
	assert.Equal(t, "1234567890123456789", st.FinancialTransactionID)
	assert.Equal(t, "9007199254740993", st.ExternalID)
	assert.Equal(t, "46733123450", st.Payee.PartyID)
	assert.Equal(t, StatusSuccessful, st.Status, "status is upper-cased")
	assert.Empty(t, st.Reason)
}

func TestGetTransfer_DecimalAmountKeptAsSent(t *testing.T) {
	st := getStatus(t, `{"amount":1500.50,"currency":"EUR","status":"PENDING"}`)

	assert.Equal(t, "1500.50", st.Amount)
	assert.False(t, st.Terminal())
}

func TestTransferStatus_TerminalOnlyForSuccessfulOrFailed(t *testing.T) {
	cases := map[string]bool{
		StatusSuccessful: true, StatusFailed: true,
		StatusPending: false, "ONGOING": false, "": false, "SOMETHING_NEW": false,
	}
	for status, want := range cases {
		st := &TransferStatus{Status: status}
		assert.Equal(t, want, st.Terminal(), status)
	}
}

func TestGetTransfer_UnknownReferenceIsNotFound(t *testing.T) {
	f := setup(t)
	f.serveToken(Disbursement, nil)
	f.serveStatus(Disbursement, func(w http.ResponseWriter, _ int32) {
		writeJSON(w, http.StatusNotFound,
			`{"code":"RESOURCE_NOT_FOUND","message":"Requested resource was not found."}`)
	})

	st, err := f.client.GetTransfer(context.Background(), Disbursement, testRef)

	assert.Nil(t, st)
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	assert.Equal(t, "RESOURCE_NOT_FOUND", apiErr.Code)
	assert.Equal(t, "get transfer", apiErr.Op)
	assert.True(t, IsNotFound(err))
	assert.Equal(t, ClassNotFound, Classify(err))
}

func TestGetTransfer_UnauthorizedIsRetriedOnceWithNewToken(t *testing.T) {
	f := setup(t)
	tokenCalls := f.serveToken(Disbursement, nil)
	calls := f.serveStatus(Disbursement, func(w http.ResponseWriter, n int32) {
		if n == 1 {
			writeJSON(w, http.StatusUnauthorized, `{"message":"token expired"}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"status":"PENDING"}`)
	})

	st, err := f.client.GetTransfer(context.Background(), Disbursement, testRef)

	require.NoError(t, err)
	assert.Equal(t, StatusPending, st.Status)
	assert.Equal(t, int32(2), tokenCalls.Load())
	assert.Equal(t, int32(2), calls.Load())
}

func TestGetTransfer_UndecodableBodyIsAmbiguous(t *testing.T) {
	f := setup(t)
	f.serveToken(Disbursement, nil)
	f.serveStatus(Disbursement, func(w http.ResponseWriter, _ int32) {
		writeJSON(w, http.StatusOK, `<html><title>Portal</title></html>`)
	})

	_, err := f.client.GetTransfer(context.Background(), Disbursement, testRef)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "momo: get transfer: decode response")
	assert.Equal(t, ClassAmbiguous, Classify(err))
}
