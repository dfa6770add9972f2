package momo

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestError_BodyShapesAreDecoded(t *testing.T) {
	cases := []struct {
		name, body  string
		status      int
		code, msg   string
		errorString string
	}{
		{"code and message", `{"code":"PAYER_NOT_FOUND","message":"Payer not found"}`, 400,
			"PAYER_NOT_FOUND", "Payer not found", "momo: get balance: 400 PAYER_NOT_FOUND: Payer not found"},
		{"error code", `{"error":"login_failed"}`, 500, "login_failed", "",
			"momo: get balance: 500 login_failed"},
		{"error text", `{"error":"Invalid credentials supplied"}`, 401, "",
			"Invalid credentials supplied", "momo: get balance: 401: Invalid credentials supplied"},
		{"error object", `{"error":{"code":"NOT_ALLOWED","message":"No permission"}}`, 400,
			"NOT_ALLOWED", "No permission", "momo: get balance: 400 NOT_ALLOWED: No permission"},
		{"gateway statusCode",
			`{"statusCode":401,"message":"Access denied due to invalid subscription key."}`, 401, "",
			"Access denied due to invalid subscription key.",
			"momo: get balance: 401: Access denied due to invalid subscription key."},
		{"message alone", `{"message":"Something went wrong"}`, 502, "", "Something went wrong",
			"momo: get balance: 502: Something went wrong"},
		{"numeric code", `{"code":1001,"message":"odd"}`, 400, "1001", "odd",
			"momo: get balance: 400 1001: odd"},
		{"empty body", ``, 503, "", "", "momo: get balance: 503 Service Unavailable"},
		{"unknown JSON", `{"detail":"nope"}`, 400, "", `{"detail":"nope"}`,
			`momo: get balance: 400: {"detail":"nope"}`},
		{"HTML page",
			"<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>", 502, "",
			"502 Bad Gateway", "momo: get balance: 502: 502 Bad Gateway"},
		{"HTML without title", "<html>\n<body><p>Request   blocked &amp; logged</p></body></html>", 403,
			"", "Request blocked & logged", "momo: get balance: 403: Request blocked & logged"},
		{"plain text", "upstream connect error\r\n or disconnect", 503, "",
			"upstream connect error or disconnect",
			"momo: get balance: 503: upstream connect error or disconnect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := balanceError(t, tc.status, tc.body)

			var apiErr *Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.Equal(t, tc.msg, apiErr.Message)
			assert.Equal(t, http.MethodGet, apiErr.Method)
			assert.EqualError(t, err, tc.errorString)
		})
	}
}

// balanceError returns the error of a Balance call answered with status and body. A 401 is
// answered twice, as the client retries it once.
func balanceError(t *testing.T, status int, body string) error {
	t.Helper()
	f := setup(t)
	f.serveToken(Disbursement, nil)
	f.mux.HandleFunc("/disbursement/v1_0/account/balance",
		func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		})
	_, err := f.client.Balance(context.Background(), Disbursement)
	return err
}

func TestError_LongBodyIsClippedAndCapped(t *testing.T) {
	err := balanceError(t, 500, strings.Repeat("x", 200_000))

	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, strings.Repeat("x", maxMessage)+"…", apiErr.Message)
}

func TestError_StringNeverContainsSecrets(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte(testAPIUser + ":" + testAPIKey))
	secrets := []string{testAPIKey, testDisbKey, testRemitKey, basic, tokenValue(Disbursement, 1)}
	echo := func(w http.ResponseWriter, r *http.Request) {
		// A badly behaved server that echoes every credential it was sent.
		msg := fmt.Sprintf("auth=%s key=%s api=%s remit=%s", r.Header.Get("Authorization"),
			r.Header.Get("Ocp-Apim-Subscription-Key"), testAPIKey, testRemitKey)
		// The subscription key is spelt with JSON escapes, which only decoding reveals.
		quoted := strings.ReplaceAll(fmt.Sprintf("%q", msg), testDisbKey,
			strings.ReplaceAll(testDisbKey, "-", `\u002d`))
		writeJSON(w, http.StatusBadRequest, `{"code":"BAD","message":`+quoted+`}`)
	}

	f := setup(t)
	f.mux.HandleFunc("/disbursement/token/", echo)
	_, tokenErr := f.client.Token(context.Background(), Disbursement)

	g := setup(t)
	g.serveToken(Disbursement, nil)
	g.mux.HandleFunc("/disbursement/v1_0/transfer", echo)
	transferErr := g.client.Transfer(context.Background(), Disbursement, testRef, sampleTransfer())

	h := setup(t)
	h.mux.HandleFunc("/v1_0/apiuser/"+testRef+"/apikey", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusBadGateway, "<html><title>"+r.Header.Get("Ocp-Apim-Subscription-Key")+
			"</title></html>")
	})
	_, provErr := h.client.CreateAPIKey(context.Background(), Disbursement, testRef)

	for _, err := range []error{tokenErr, transferErr, provErr} {
		require.Error(t, err)
		for _, secret := range secrets {
			assert.False(t, strings.Contains(err.Error(), secret), "%q leaks a secret", err.Error())
		}
		assert.Contains(t, err.Error(), "[redacted]")
	}
}

func TestClassify_ErrorsByStatusAndCode(t *testing.T) {
	cases := []struct {
		status int
		method string
		code   string
		msg    string
		want   Class
	}{
		{409, "POST", "RESOURCE_ALREADY_EXIST", "", ClassConflict},
		{409, "POST", "", "", ClassConflict},
		{404, "GET", "RESOURCE_NOT_FOUND", "", ClassNotFound},
		{404, "GET", "", "", ClassNotFound},
		{404, "POST", "RESOURCE_NOT_FOUND", "", ClassRejected},
		{400, "POST", "PAYEE_NOT_FOUND", "", ClassRejected},
		{400, "POST", "", "", ClassRejected},
		{403, "POST", "NOT_ALLOWED", "", ClassRejected},
		{403, "POST", "", "Forbidden", ClassConfig},
		{400, "POST", "", "Your IP is not whitelisted", ClassConfig},
		{422, "POST", "", "", ClassRejected},
		{401, "POST", "", "", ClassConfig},
		{401, "POST", "UNAUTHORIZED", "", ClassConfig},
		{500, "POST", "login_failed", "", ClassConfig},
		{500, "POST", "NOT_ALLOWED_TARGET_ENVIRONMENT", "", ClassConfig},
		{500, "POST", "INVALID_CURRENCY", "", ClassConfig},
		{400, "POST", "INVALID_CURRENCY", "", ClassConfig},
		{400, "POST", "INVALID_CALLBACK_URL_HOST", "", ClassConfig},
		{500, "POST", "NOT_ENOUGH_FUNDS", "", ClassInsufficientFunds},
		{400, "POST", "not_enough_funds", "", ClassInsufficientFunds},
		{500, "POST", "INTERNAL_PROCESSING_ERROR", "", ClassAmbiguous},
		{500, "POST", "", "", ClassAmbiguous},
		{502, "GET", "", "", ClassAmbiguous},
		{503, "POST", "SERVICE_UNAVAILABLE", "", ClassAmbiguous},
		{504, "POST", "", "", ClassAmbiguous},
		{429, "POST", "", "", ClassAmbiguous},
		{408, "POST", "", "", ClassAmbiguous},
		{200, "POST", "", "", ClassAmbiguous},
		{301, "POST", "", "", ClassConfig},
	}
	for _, tc := range cases {
		err := &Error{Op: "op", Method: tc.method, StatusCode: tc.status, Code: tc.code, Message: tc.msg}
		assert.Equal(t, tc.want, Classify(err), "%d %s %s %q", tc.status, tc.method, tc.code, tc.msg)
		wrapped := fmt.Errorf("tasks: submit: %w", err)
		assert.Equal(t, tc.want, Classify(wrapped), "wrapped %d %s", tc.status, tc.code)
	}
}

func TestClassify_OtherErrors(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		err  error
		want Class
	}{
		{nil, ClassNone},
		{errorf("create transfer", context.DeadlineExceeded), ClassAmbiguous},
		{errorf("create transfer", context.Canceled), ClassAmbiguous},
		{errorf("create transfer", io.EOF), ClassAmbiguous},
		{errorf("create transfer", io.ErrUnexpectedEOF), ClassAmbiguous},
		{errorf("create transfer", opErr), ClassAmbiguous},
		{fmt.Errorf("%w %q", ErrNoSubscriptionKey, Remittance), ClassConfig},
		{fmt.Errorf("%w %q", ErrUnknownProduct, "collection"), ClassConfig},
		{fmt.Errorf("%w: APIKey is required", ErrConfig), ClassConfig},
		{fmt.Errorf("%w: bad", ErrInvalidRequest), ClassRejected},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, Classify(tc.err), "%v", tc.err)
	}
	assert.False(t, IsNotFound(nil))
	assert.False(t, IsNotFound(io.EOF))
}

func TestClass_String(t *testing.T) {
	assert.Equal(t, "none", ClassNone.String())
	assert.Equal(t, "ambiguous", ClassAmbiguous.String())
	assert.Equal(t, "conflict", ClassConflict.String())
	assert.Equal(t, "not_found", ClassNotFound.String())
	assert.Equal(t, "rejected", ClassRejected.String())
	assert.Equal(t, "config", ClassConfig.String())
	assert.Equal(t, "insufficient_funds", ClassInsufficientFunds.String())
	assert.Equal(t, "Class(42)", Class(42).String())
}

func TestRetryAfter_SecondsOrDate(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"2":                             2 * time.Second,
		" 120 ":                         2 * time.Minute,
		"0":                             0,
		"-5":                            0,
		"soon":                          0,
		"99999999999999999":             maxRetryAfter,
		"Thu, 02 Jan 2025 03:04:35 GMT": 30 * time.Second,
		"Thu, 02 Jan 2025 03:00:00 GMT": 0,
	}
	for header, want := range cases {
		h := http.Header{}
		h.Set("Retry-After", header)
		assert.Equal(t, want, retryAfter(h, now), "%q", header)
	}
}
