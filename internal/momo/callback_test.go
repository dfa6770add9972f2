package momo

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testItemCallback = "https://payout.example.com/momo/callback/payroll-7/" + testRef

// transferWith sends sampleTransfer with its CallbackURL set to callback.
func (f *fixture) transferWith(callback string) error {
	req := sampleTransfer()
	req.CallbackURL = callback
	return f.client.Transfer(f.t.Context(), Disbursement, testRef, req)
}

func TestTransfer_RequestCallbackURLOverridesConfig(t *testing.T) {
	f := setup(t, func(c *Config) { c.CallbackURL = testCallback })
	f.serveToken(Disbursement, nil)
	f.serveTransfer(Disbursement, func(w http.ResponseWriter, r *http.Request, n int32) {
		assert.Equal(t, []string{testItemCallback}, r.Header.Values("X-Callback-Url"))
		accepted(w, r, n)
	})

	require.NoError(t, f.transferWith(testItemCallback))
}

func TestTransfer_RequestCallbackURLSentWithoutConfig(t *testing.T) {
	f := setup(t)
	f.serveToken(Disbursement, nil)
	f.serveTransfer(Disbursement, func(w http.ResponseWriter, r *http.Request, n int32) {
		assert.Equal(t, testItemCallback, r.Header.Get("X-Callback-Url"))
		accepted(w, r, n)
	})

	require.NoError(t, f.transferWith(testItemCallback))
	assert.Equal(t, testCallback, mustClient(t, testCallback).CallbackURL())
	assert.Empty(t, f.client.CallbackURL())
}

func TestTransfer_EmptyCallbackURLSendsNoHeader(t *testing.T) {
	f := setup(t)
	f.serveToken(Disbursement, nil)
	f.serveTransfer(Disbursement, func(w http.ResponseWriter, r *http.Request, n int32) {
		_, present := r.Header["X-Callback-Url"]
		assert.False(t, present, "an empty X-Callback-Url is refused by MoMo: never send one")
		accepted(w, r, n)
	})

	require.NoError(t, f.transferWith(""))
}

func TestTransfer_MalformedCallbackURLIsNotSent(t *testing.T) {
	f := setup(t)
	f.serveToken(Disbursement, nil)
	calls := f.serveTransfer(Disbursement, accepted)

	for _, bad := range []string{"payout.example.com/callback", "ftp://payout.example.com/cb", "/cb"} {
		err := f.transferWith(bad)
		require.Error(t, err, bad)
		assert.True(t, errors.Is(err, ErrInvalidRequest), bad)
	}
	assert.Equal(t, int32(0), calls.Load(), "nothing MoMo would refuse is sent")
}

// mustClient returns a client for an unused host configured with callback.
func mustClient(t *testing.T, callback string) *Client {
	t.Helper()
	c, err := New(Config{
		BaseURL: "http://127.0.0.1:9", TargetEnvironment: testEnv, APIUser: testAPIUser,
		APIKey: testAPIKey, SubscriptionKeys: map[Product]string{Disbursement: testDisbKey},
		CallbackURL: callback,
	})
	require.NoError(t, err)
	return c
}
