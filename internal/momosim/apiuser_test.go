package momosim

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPIUser_ProvisioningFlow(t *testing.T) {
	e := newEnv(t, Config{})
	id := uuid.NewString()
	sub := map[string]string{
		"Ocp-Apim-Subscription-Key": DefaultRemittanceKey,
		"X-Reference-Id":            id,
		"Content-Type":              "application/json",
	}
	body := `{"providerCallbackHost":"hooks.example.com"}`

	created := e.do(http.MethodPost, "/v1_0/apiuser", sub, body)
	require.Equal(t, http.StatusCreated, created.status, "body: %s", created.body)
	requireError(t, e.do(http.MethodPost, "/v1_0/apiuser", sub, body),
		http.StatusConflict, "RESOURCE_ALREADY_EXIST")

	user := e.do(http.MethodGet, "/v1_0/apiuser/"+id, sub, "")
	require.Equal(t, http.StatusOK, user.status)
	assert.JSONEq(t, `{"providerCallbackHost":"hooks.example.com","targetEnvironment":"sandbox"}`,
		string(user.body))

	keyAnswer := e.do(http.MethodPost, "/v1_0/apiuser/"+id+"/apikey", sub, "")
	require.Equal(t, http.StatusCreated, keyAnswer.status)
	key, _ := keyAnswer.json(t)["apiKey"].(string)
	require.Len(t, key, 32)

	// The new pair works for Basic auth, on either product.
	h := tokenHeaders(ProductDisbursement)
	h["Authorization"] = basic(id, key)
	tokAnswer := e.do(http.MethodPost, "/disbursement/token/", h, "")
	require.Equal(t, http.StatusOK, tokAnswer.status)
	tok := tokAnswer.json(t)["access_token"].(string)

	// Its providerCallbackHost is enforced on its transfers.
	post := postHeaders(ProductDisbursement, tok, uuid.NewString())
	post["X-Callback-Url"] = "http://127.0.0.1:9/cb"
	requireError(t, e.do(http.MethodPost, "/disbursement/v1_0/transfer", post,
		transferJSON("46733123499", "x", "1")), http.StatusBadRequest, "INVALID_CALLBACK_URL_HOST")
	post["X-Callback-Url"] = "https://hooks.example.com/cb"
	assert.Equal(t, http.StatusAccepted, e.do(http.MethodPost, "/disbursement/v1_0/transfer", post,
		transferJSON("46733123499", "x", "1")).status)
}

func TestAPIUser_NewKeyReplacesOld(t *testing.T) {
	e := newEnv(t, Config{})
	id := uuid.NewString()
	sub := map[string]string{"Ocp-Apim-Subscription-Key": DefaultDisbursementKey, "X-Reference-Id": id}
	require.Equal(t, http.StatusCreated,
		e.do(http.MethodPost, "/v1_0/apiuser", sub, `{"providerCallbackHost":"localhost"}`).status)

	old := e.do(http.MethodPost, "/v1_0/apiuser/"+id+"/apikey", sub, "").json(t)["apiKey"].(string)
	fresh := e.do(http.MethodPost, "/v1_0/apiuser/"+id+"/apikey", sub, "").json(t)["apiKey"].(string)
	require.NotEqual(t, old, fresh)

	h := tokenHeaders(ProductDisbursement)
	h["Authorization"] = basic(id, old)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodPost, "/disbursement/token/", h, "").status)
	h["Authorization"] = basic(id, fresh)
	assert.Equal(t, http.StatusOK, e.do(http.MethodPost, "/disbursement/token/", h, "").status)
}

func TestAPIUser_UserWithoutKeyCannotLogIn(t *testing.T) {
	e := newEnv(t, Config{})
	id := uuid.NewString()
	sub := map[string]string{"Ocp-Apim-Subscription-Key": DefaultDisbursementKey, "X-Reference-Id": id}
	require.Equal(t, http.StatusCreated,
		e.do(http.MethodPost, "/v1_0/apiuser", sub, `{"providerCallbackHost":"localhost"}`).status)

	h := tokenHeaders(ProductDisbursement)
	h["Authorization"] = basic(id, "")
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodPost, "/disbursement/token/", h, "").status)
}

func TestAPIUser_RefusesBadRequests(t *testing.T) {
	e := newEnv(t, Config{})
	sub := func(id string) map[string]string {
		return map[string]string{"Ocp-Apim-Subscription-Key": DefaultDisbursementKey, "X-Reference-Id": id}
	}
	good := `{"providerCallbackHost":"localhost"}`

	requireError(t, e.do(http.MethodPost, "/v1_0/apiuser", sub("user-1"), good),
		http.StatusBadRequest, "INVALID_REFERENCE_ID")
	requireError(t, e.do(http.MethodPost, "/v1_0/apiuser", sub(uuid.NewString()), `{}`),
		http.StatusBadRequest, "INVALID_REQUEST")
	requireError(t, e.do(http.MethodPost, "/v1_0/apiuser/"+uuid.NewString()+"/apikey", sub(""), ""),
		http.StatusNotFound, "RESOURCE_NOT_FOUND")
	requireError(t, e.do(http.MethodGet, "/v1_0/apiuser/"+uuid.NewString(), sub(""), ""),
		http.StatusNotFound, "RESOURCE_NOT_FOUND")

	noKey := sub(uuid.NewString())
	noKey["Ocp-Apim-Subscription-Key"] = "wrong"
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodPost, "/v1_0/apiuser", noKey, good).status)
}

func TestAPIUser_DefaultUserIsProvisioned(t *testing.T) {
	e := newEnv(t, Config{CallbackHost: "127.0.0.1"})
	a := e.do(http.MethodGet, "/v1_0/apiuser/"+DefaultAPIUser,
		map[string]string{"Ocp-Apim-Subscription-Key": DefaultDisbursementKey}, "")

	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "127.0.0.1", a.json(t)["providerCallbackHost"])
}
