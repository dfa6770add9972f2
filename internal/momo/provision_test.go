package momo

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkProvisioningHeaders checks that a sandbox provisioning call carries the product's key
// and no credentials.
func checkProvisioningHeaders(t *testing.T, r *http.Request, p Product) {
	assert.Equal(t, keyFor(p), r.Header.Get("Ocp-Apim-Subscription-Key"))
	assert.Empty(t, r.Header.Get("Authorization"))
	assert.Empty(t, r.Header.Get("X-Target-Environment"))
}

func TestCreateAPIUser_PostsCallbackHost(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("/v1_0/apiuser", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		assert.NoError(t, err)
		assert.Equal(t, http.MethodPost, r.Method)
		checkProvisioningHeaders(t, r, Remittance)
		assert.Equal(t, testRef, r.Header.Get("X-Reference-Id"))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.JSONEq(t, `{"providerCallbackHost":"payout.example.com"}`, string(body))
		w.WriteHeader(http.StatusCreated)
	})

	err := f.client.CreateAPIUser(context.Background(), Remittance, testRef, "payout.example.com")

	require.NoError(t, err)
}

func TestCreateAPIUser_ExistingIDIsConflict(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("/v1_0/apiuser", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusConflict,
			`{"code":"RESOURCE_ALREADY_EXIST","message":"Duplicated reference id"}`)
	})

	err := f.client.CreateAPIUser(context.Background(), Disbursement, testRef, "payout.example.com")

	assert.Equal(t, ClassConflict, Classify(err))
	assert.EqualError(t, err,
		"momo: create api user: 409 RESOURCE_ALREADY_EXIST: Duplicated reference id")
}

func TestCreateAPIKey_ReturnsKey(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("/v1_0/apiuser/"+testRef+"/apikey", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Zero(t, r.ContentLength)
		checkProvisioningHeaders(t, r, Disbursement)
		writeJSON(w, http.StatusCreated, `{"apiKey":"f1db798c98df4bcf83b538175893bbf0"}`)
	})

	key, err := f.client.CreateAPIKey(context.Background(), Disbursement, testRef)

	require.NoError(t, err)
	assert.Equal(t, "f1db798c98df4bcf83b538175893bbf0", key)
	calls, _ := f.obs.snapshot()
	assert.Equal(t, []observedCall{{Disbursement, "apikey", 201}}, calls)
}

func TestCreateAPIKey_UnknownUserIsRejected(t *testing.T) {
	f := setup(t)
	f.mux.HandleFunc("/v1_0/apiuser/"+testRef+"/apikey", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, `{"code":"RESOURCE_NOT_FOUND","message":"not found"}`)
	})

	_, err := f.client.CreateAPIKey(context.Background(), Disbursement, testRef)

	assert.Equal(t, ClassRejected, Classify(err), "a 404 on a POST refuses the request")
}
