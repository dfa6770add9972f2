package momo

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const wantTransferBody = `{"amount":"1500","currency":"EUR","externalId":"payroll-7-0001",
	"payee":{"partyIdType":"MSISDN","partyId":"46733123450"},
	"payerMessage":"December salary","payeeNote":"Thank you"}`

// transferReply answers the n-th transfer request.
type transferReply func(w http.ResponseWriter, r *http.Request, n int32)

// serveTransfer serves p's transfer endpoint, checks each request, and answers with reply.
func (f *fixture) serveTransfer(p Product, reply transferReply) *atomic.Int32 {
	calls := &atomic.Int32{}
	f.mux.HandleFunc("/"+string(p)+"/v1_0/transfer", func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		body, err := io.ReadAll(r.Body)
		assert.NoError(f.t, err)
		assert.Equal(f.t, http.MethodPost, r.Method)
		assert.Equal(f.t, testRef, r.Header.Get("X-Reference-Id"))
		assert.Equal(f.t, "application/json", r.Header.Get("Content-Type"))
		assert.Equal(f.t, testEnv, r.Header.Get("X-Target-Environment"))
		assert.Equal(f.t, keyFor(p), r.Header.Get("Ocp-Apim-Subscription-Key"))
		assert.JSONEq(f.t, wantTransferBody, string(body))
		reply(w, r, n)
	})
	return calls
}

// transfer sends sampleTransfer for Disbursement under testRef.
func (f *fixture) transfer() error {
	return f.client.Transfer(context.Background(), Disbursement, testRef, sampleTransfer())
}

func accepted(w http.ResponseWriter, _ *http.Request, _ int32) {
	w.WriteHeader(http.StatusAccepted)
}

func TestTransfer_AcceptedReturnsNil(t *testing.T) {
	for _, p := range []Product{Disbursement, Remittance} {
		t.Run(string(p), func(t *testing.T) {
			f := setup(t)
			f.serveToken(p, nil)
			calls := f.serveTransfer(p, func(w http.ResponseWriter, r *http.Request, n int32) {
				checkAPIHeaders(t, r, p, tokenValue(p, 1))
				_, present := r.Header["X-Callback-Url"]
				assert.False(t, present, "no callback URL configured")
				accepted(w, r, n)
			})

			err := f.client.Transfer(context.Background(), p, testRef, sampleTransfer())

			require.NoError(t, err)
			assert.Equal(t, ClassNone, Classify(err))
			assert.Equal(t, int32(1), calls.Load())
		})
	}
}

func TestTransfer_CallbackURLSentWhenConfigured(t *testing.T) {
	f := setup(t, func(c *Config) { c.CallbackURL = testCallback })
	f.serveToken(Disbursement, nil)
	f.serveTransfer(Disbursement, func(w http.ResponseWriter, r *http.Request, n int32) {
		assert.Equal(t, testCallback, r.Header.Get("X-Callback-Url"))
		accepted(w, r, n)
	})

	require.NoError(t, f.transfer())
}

func TestTransfer_ResponsesAreClassified(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		body       string
		retryAfter string
		class      Class
		code       string
		wait       time.Duration
	}{
		{"409 conflict means submitted", 409,
			`{"code":"RESOURCE_ALREADY_EXIST","message":"Duplicated reference id"}`, "",
			ClassConflict, "RESOURCE_ALREADY_EXIST", 0},
		{"400 rejected", 400, `{"code":"PAYEE_NOT_FOUND","message":"Payee does not exist"}`, "",
			ClassRejected, "PAYEE_NOT_FOUND", 0},
		{"404 on POST rejected", 404, `{"code":"RESOURCE_NOT_FOUND","message":"not found"}`, "",
			ClassRejected, "RESOURCE_NOT_FOUND", 0},
		{"500 internal error ambiguous", 500,
			`{"code":"INTERNAL_PROCESSING_ERROR","message":"An internal error occurred"}`, "",
			ClassAmbiguous, "INTERNAL_PROCESSING_ERROR", 0},
		{"503 ambiguous", 503, `{"code":"SERVICE_UNAVAILABLE","message":"try later"}`, "",
			ClassAmbiguous, "SERVICE_UNAVAILABLE", 0},
		{"429 ambiguous with hint", 429, ``, "2", ClassAmbiguous, "", 2 * time.Second},
		{"500 not enough funds", 500, `{"code":"NOT_ENOUGH_FUNDS","message":"low balance"}`, "",
			ClassInsufficientFunds, "NOT_ENOUGH_FUNDS", 0},
		{"500 wrong target environment", 500,
			`{"code":"NOT_ALLOWED_TARGET_ENVIRONMENT","message":"target environment forbidden"}`,
			"", ClassConfig, "NOT_ALLOWED_TARGET_ENVIRONMENT", 0},
		{"400 bad callback host", 400, `{"code":"INVALID_CALLBACK_URL_HOST","message":"x"}`, "",
			ClassConfig, "INVALID_CALLBACK_URL_HOST", 0},
		{"403 from the gateway", 403, `{"statusCode":403,"message":"Forbidden"}`, "",
			ClassConfig, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			f.serveToken(Disbursement, nil)
			f.serveTransfer(Disbursement, func(w http.ResponseWriter, _ *http.Request, _ int32) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				writeJSON(w, tc.status, tc.body)
			})

			err := f.transfer()

			var apiErr *Error
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.class, Classify(err))
			assert.Equal(t, "create transfer", apiErr.Op)
			assert.Equal(t, http.MethodPost, apiErr.Method)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.Equal(t, tc.wait, apiErr.RetryAfter)
		})
	}
}

func TestTransfer_UnauthorizedRefreshesTokenOnceThenSucceeds(t *testing.T) {
	f := setup(t)
	tokenCalls := f.serveToken(Disbursement, nil)
	transferCalls := f.serveTransfer(Disbursement, func(w http.ResponseWriter,
		r *http.Request, n int32) {
		checkAPIHeaders(t, r, Disbursement, tokenValue(Disbursement, n))
		if n == 1 {
			writeJSON(w, http.StatusUnauthorized, `{"code":"UNAUTHORIZED","message":"token expired"}`)
			return
		}
		accepted(w, r, n)
	})

	err := f.transfer()

	require.NoError(t, err)
	assert.Equal(t, int32(2), tokenCalls.Load())
	assert.Equal(t, int32(2), transferCalls.Load())
}

func TestTransfer_SecondUnauthorizedIsConfig(t *testing.T) {
	f := setup(t)
	tokenCalls := f.serveToken(Disbursement, nil)
	transferCalls := f.serveTransfer(Disbursement, func(w http.ResponseWriter,
		_ *http.Request, _ int32) {
		writeJSON(w, http.StatusUnauthorized,
			`{"statusCode":401,"message":"Access denied due to invalid subscription key."}`)
	})

	err := f.transfer()

	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.Equal(t, ClassConfig, Classify(err))
	assert.Equal(t, int32(2), tokenCalls.Load(), "exactly one refresh")
	assert.Equal(t, int32(2), transferCalls.Load(), "exactly one retry")
}

func TestTransfer_ConnectionClosedMidResponseIsAmbiguous(t *testing.T) {
	partial := map[string]string{
		"nothing written":   "",
		"headers cut short": "HTTP/1.1 202 Acc",
		"body cut short": "HTTP/1.1 500 Internal Server Error\r\n" +
			"Content-Length: 100\r\n\r\n{\"code\":",
	}
	for name, raw := range partial {
		t.Run(name, func(t *testing.T) {
			f := setup(t)
			f.serveToken(Disbursement, nil)
			f.serveTransfer(Disbursement, func(w http.ResponseWriter, _ *http.Request, _ int32) {
				conn, buf, err := http.NewResponseController(w).Hijack()
				if !assert.NoError(t, err) {
					return
				}
				_, _ = buf.WriteString(raw)
				_ = buf.Flush()
				_ = conn.Close()
			})

			err := f.transfer()

			require.Error(t, err)
			assert.Equal(t, ClassAmbiguous, Classify(err))
			assert.Contains(t, err.Error(), "momo: create transfer: ")
		})
	}
}

func TestTransfer_DeadlineIsAmbiguousAndWrapped(t *testing.T) {
	f := setup(t)
	f.serveToken(Disbursement, nil)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	f.serveTransfer(Disbursement, func(w http.ResponseWriter, r *http.Request, _ int32) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
	_, err := f.client.Token(context.Background(), Disbursement)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = f.client.Transfer(ctx, Disbursement, testRef, sampleTransfer())

	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, ClassAmbiguous, Classify(err))
}

func TestTransfer_ServerDownIsAmbiguous(t *testing.T) {
	f := setup(t)
	f.serveToken(Disbursement, nil)
	_, err := f.client.Token(context.Background(), Disbursement)
	require.NoError(t, err)
	f.server.Close()

	err = f.transfer()

	require.Error(t, err)
	assert.Equal(t, ClassAmbiguous, Classify(err))
	calls, _ := f.obs.snapshot()
	assert.Equal(t, observedCall{Disbursement, "transfer", 0}, calls[len(calls)-1])
}

func TestTransfer_InvalidRequestIsRejectedWithoutSending(t *testing.T) {
	noAmount := sampleTransfer()
	noAmount.Amount = ""
	noPayee := sampleTransfer()
	noPayee.Payee.PartyID = " "
	cases := []struct {
		name string
		ref  string
		req  TransferRequest
	}{
		{"empty reference ID", "", sampleTransfer()},
		{"reference ID not a UUID", "payroll-7-0001", sampleTransfer()},
		{"version-1 UUID", "6f1c8a2e-3b4d-11ef-8a9b-0c1d2e3f4a5b", sampleTransfer()},
		{"braced UUID", "{" + testRef + "}", sampleTransfer()},
		{"no amount", testRef, noAmount},
		{"no payee", testRef, noPayee},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			tokenCalls := f.serveToken(Disbursement, nil)
			calls := f.serveTransfer(Disbursement, accepted)

			err := f.client.Transfer(context.Background(), Disbursement, tc.ref, tc.req)

			require.ErrorIs(t, err, ErrInvalidRequest)
			assert.Equal(t, ClassRejected, Classify(err))
			assert.Zero(t, calls.Load())
			assert.Zero(t, tokenCalls.Load())
		})
	}
}

func TestTransfer_ObserverSeesEveryRoundTrip(t *testing.T) {
	f := setup(t)
	f.serveToken(Disbursement, nil)
	f.serveTransfer(Disbursement, func(w http.ResponseWriter, r *http.Request, n int32) {
		if n == 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		accepted(w, r, n)
	})

	require.NoError(t, f.transfer())

	calls, refreshes := f.obs.snapshot()
	assert.Equal(t, []observedCall{
		{Disbursement, "token", 200},
		{Disbursement, "transfer", 401},
		{Disbursement, "token", 200},
		{Disbursement, "transfer", 202},
	}, calls)
	assert.Equal(t, []error{nil, nil}, refreshes)
}
