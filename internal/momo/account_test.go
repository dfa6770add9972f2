package momo

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBalance_DecodesStringOrNumber(t *testing.T) {
	bodies := map[string]string{
		`{"availableBalance":"1000000.50","currency":"EUR"}`:   "1000000.50",
		`{"availableBalance":12345678901234,"currency":"EUR"}`: "12345678901234",
	}
	for body, want := range bodies {
		f := setup(t)
		f.serveToken(Disbursement, nil)
		f.mux.HandleFunc("/disbursement/v1_0/account/balance",
			func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, http.MethodGet, r.Method)
				checkAPIHeaders(t, r, Disbursement, tokenValue(Disbursement, 1))
				writeJSON(w, http.StatusOK, body)
			})

		b, err := f.client.Balance(context.Background(), Disbursement)

		require.NoError(t, err)
		assert.Equal(t, &Balance{AvailableBalance: want, Currency: "EUR"}, b)
	}
}

func TestAccountHolderActive_UsesPathForPartyType(t *testing.T) {
	cases := []struct {
		partyType, partyID, path, body string
		want                           bool
	}{
		{"MSISDN", "46733123450", "/remittance/v1_0/accountholder/msisdn/46733123450/active",
			`{"result":true}`, true},
		{"email", "a@example.com", "/remittance/v1_0/accountholder/email/a@example.com/active",
			`{"result":false}`, false},
		{"PARTY_CODE", "shop-9", "/remittance/v1_0/accountholder/party_code/shop-9/active",
			`{"result":"true"}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.partyType, func(t *testing.T) {
			f := setup(t)
			f.serveToken(Remittance, nil)
			f.mux.HandleFunc(tc.path, func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, http.MethodGet, r.Method)
				checkAPIHeaders(t, r, Remittance, tokenValue(Remittance, 1))
				writeJSON(w, http.StatusOK, tc.body)
			})

			active, err := f.client.AccountHolderActive(context.Background(), Remittance,
				tc.partyType, tc.partyID)

			require.NoError(t, err)
			assert.Equal(t, tc.want, active)
		})
	}
}

func TestAccountHolderActive_RefusesUnknownPartyType(t *testing.T) {
	f := setup(t)

	_, err := f.client.AccountHolderActive(context.Background(), Disbursement, "ALIAS", "x")

	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.Equal(t, ClassRejected, Classify(err))
}

func TestAccountHolderActive_MissingResultIsError(t *testing.T) {
	f := setup(t)
	f.serveToken(Disbursement, nil)
	f.mux.HandleFunc("/disbursement/v1_0/accountholder/msisdn/46733123450/active",
		func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, `{}`) })

	_, err := f.client.AccountHolderActive(context.Background(), Disbursement, "MSISDN", "46733123450")

	require.Error(t, err)
	assert.Contains(t, err.Error(), "momo: get account holder: ")
}
