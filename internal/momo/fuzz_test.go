package momo

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeStatus feeds arbitrary bodies to the status decoder: it must never panic, and
// whatever it accepts must come out as a status a caller can act on.
func FuzzDecodeStatus(f *testing.F) {
	for _, seed := range []string{
		`{"amount":"1500","currency":"EUR","financialTransactionId":"123","externalId":"e","payee":{"partyIdType":"MSISDN","partyId":"46733123450"},"status":"SUCCESSFUL"}`,
		`{"amount":1500.50,"financialTransactionId":1234567890123456789,"payee":{"partyId":46733123450},"status":"failed","reason":"NOT_ENOUGH_FUNDS"}`,
		`{"status":"FAILED","reason":{"code":"PAYEE_NOT_FOUND","message":"Payee does not exist"}}`,
		`{"status":"PENDING","reason":null}`,
		`{"status":" successful "}`,
		`[]`, `null`, `{"amount":1e400}`, `{"reason":{"code":7}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var sb statusBody
		if err := json.Unmarshal(body, &sb); err != nil {
			return
		}
		st := sb.status("3f1d2c9e-7a4b-4c1e-9f2a-5b6d7e8f9a01")
		if st.Status != strings.ToUpper(strings.TrimSpace(st.Status)) {
			t.Fatalf("status %q not normalised", st.Status)
		}
		if st.Terminal() != (st.Status == StatusSuccessful || st.Status == StatusFailed) {
			t.Fatalf("Terminal() wrong for %q", st.Status)
		}
	})
}

// FuzzParseErrorBody feeds arbitrary bodies to the error decoder: no panic, and the message
// kept is bounded and valid text.
func FuzzParseErrorBody(f *testing.F) {
	for _, seed := range []string{
		`{"code":"RESOURCE_ALREADY_EXIST","message":"Duplicated reference id."}`,
		`{"error":"login_failed"}`,
		`{"statusCode":401,"message":"Access denied due to invalid subscription key."}`,
		`{"message":"only a message"}`, ``, `<html><title>502 Bad Gateway</title></html>`,
		`{"error":{"code":"X","message":"y"}}`, `{"reason":"NOT_ENOUGH_FUNDS"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		eb := parseErrorBody(body)
		if utf8.RuneCountInString(eb.message) > maxMessage+1 {
			t.Fatalf("message of %d runes kept", utf8.RuneCountInString(eb.message))
		}
		_ = (&Error{Op: "fuzz", StatusCode: 500, Code: eb.code, Message: eb.message}).Error()
	})
}
