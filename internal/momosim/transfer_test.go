package momosim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransfer_AcceptedThenVisibleByGet(t *testing.T) {
	for _, product := range []string{ProductDisbursement, ProductRemittance} {
		t.Run(product, func(t *testing.T) {
			e := newEnv(t, Config{})
			ref, a := e.post(product, "46733123499", "payroll-7-0001", "1500")
			require.Equal(t, http.StatusAccepted, a.status)
			assert.Empty(t, a.body)

			got := e.get(product, ref)
			require.Equal(t, http.StatusOK, got.status)
			m := got.json(t)
			assert.Equal(t, "1500", m["amount"])
			assert.Equal(t, "EUR", m["currency"])
			assert.Equal(t, "payroll-7-0001", m["externalId"])
			assert.Equal(t, map[string]any{"partyIdType": "MSISDN", "partyId": "46733123499"}, m["payee"])
			assert.Equal(t, "December salary", m["payerMessage"])
			assert.Equal(t, "Thank you", m["payeeNote"])
			assert.Equal(t, StatusSuccessful, m["status"])
			assert.NotEmpty(t, m["financialTransactionId"])
			assert.NotContains(t, m, "reason")

			st := e.sim.Stats()
			assert.Equal(t, 1, st.TransfersCreated)
			assert.Equal(t, 1, st.StatusQueries)
		})
	}
}

func TestTransfer_ReusedReferenceIsConflictAndCreatesNothing(t *testing.T) {
	e := newEnv(t, Config{})
	ref := uuid.NewString()
	path := "/disbursement/v1_0/transfer"
	tok := e.token(ProductDisbursement)

	first := e.do(http.MethodPost, path, postHeaders(ProductDisbursement, tok, ref),
		transferJSON("46733123499", "first", "10"))
	require.Equal(t, http.StatusAccepted, first.status)
	again := e.do(http.MethodPost, path, postHeaders(ProductDisbursement, tok, strings.ToUpper(ref)),
		transferJSON("46733123498", "second", "20"))

	require.Equal(t, http.StatusConflict, again.status)
	assert.JSONEq(t, `{"code":"RESOURCE_ALREADY_EXIST",`+
		`"message":"Duplicated reference id. Creation of resource failed."}`, string(again.body))
	transfers := e.sim.Transfers()
	require.Len(t, transfers, 1)
	assert.Equal(t, "first", transfers[0].ExternalID)
	assert.Equal(t, 1, e.sim.Stats().Conflicts409)
	assert.Equal(t, 1, e.sim.Stats().TransfersCreated)
}

func TestTransfer_SameReferenceInOtherProductIsSeparate(t *testing.T) {
	e := newEnv(t, Config{})
	ref := e.mustPost(ProductDisbursement, "46733123499", "x", "5")

	assert.Equal(t, http.StatusNotFound, e.get(ProductRemittance, ref).status)
	requireError(t, e.get(ProductRemittance, ref), http.StatusNotFound, "RESOURCE_NOT_FOUND")
}

func TestTransfer_GetUnknownReferenceIsNotFound(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.get(ProductDisbursement, uuid.NewString())

	require.Equal(t, http.StatusNotFound, a.status)
	assert.JSONEq(t, `{"code":"RESOURCE_NOT_FOUND","message":"Requested resource was not found."}`,
		string(a.body))
}

func TestTransfer_RefusesReferenceIDNotInV4Form(t *testing.T) {
	e := newEnv(t, Config{})
	v4 := uuid.NewString()
	cases := map[string]string{
		"missing":     "",
		"not a uuid":  "payroll-7-0001",
		"version 1":   "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
		"version 7":   "01936f3a-8b1c-7def-8123-456789abcdef",
		"bad variant": v4[:19] + "c" + v4[20:],
		"braces":      "{" + v4 + "}",
		"urn":         "urn:uuid:" + v4,
		"no hyphens":  strings.ReplaceAll(v4, "-", ""),
	}
	tok := e.token(ProductDisbursement)
	for name, ref := range cases {
		t.Run(name, func(t *testing.T) {
			h := postHeaders(ProductDisbursement, tok, ref)
			if ref == "" {
				delete(h, "X-Reference-Id")
			}
			a := e.do(http.MethodPost, "/disbursement/v1_0/transfer", h, transferJSON("46733123499", "x", "1"))
			requireError(t, a, http.StatusBadRequest, "INVALID_REFERENCE_ID")
		})
	}
	assert.Empty(t, e.sim.Transfers())
}

func TestTransfer_RefusesOtherCurrencyThanSandboxEUR(t *testing.T) {
	e := newEnv(t, Config{})
	body := strings.Replace(transferJSON("46733123499", "x", "1"), `"EUR"`, `"UGX"`, 1)
	a := e.do(http.MethodPost, "/disbursement/v1_0/transfer",
		postHeaders(ProductDisbursement, e.token(ProductDisbursement), uuid.NewString()), body)

	requireError(t, a, http.StatusInternalServerError, "INVALID_CURRENCY")
	assert.Empty(t, e.sim.Transfers())
}

func TestTransfer_ProductionEnvironmentTakesItsCurrency(t *testing.T) {
	e := newEnv(t, Config{TargetEnvironment: "mtnuganda"})
	h := postHeaders(ProductDisbursement, e.token(ProductDisbursement), uuid.NewString())
	h["X-Target-Environment"] = "mtnuganda"
	body := strings.Replace(transferJSON("256772123456", "x", "1"), `"EUR"`, `"UGX"`, 1)

	a := e.do(http.MethodPost, "/disbursement/v1_0/transfer", h, body)
	require.Equal(t, http.StatusAccepted, a.status, "body: %s", a.body)

	bal := e.do(http.MethodGet, "/disbursement/v1_0/account/balance", h, "")
	assert.Equal(t, "UGX", bal.json(t)["currency"])
}

func TestTransfer_RefusesWrongTargetEnvironment(t *testing.T) {
	e := newEnv(t, Config{})
	for name, envName := range map[string]string{"wrong": "mtnuganda", "missing": ""} {
		t.Run(name, func(t *testing.T) {
			h := postHeaders(ProductDisbursement, e.token(ProductDisbursement), uuid.NewString())
			h["X-Target-Environment"] = envName
			a := e.do(http.MethodPost, "/disbursement/v1_0/transfer", h, transferJSON("46733123499", "x", "1"))
			requireError(t, a, http.StatusInternalServerError, "NOT_ALLOWED_TARGET_ENVIRONMENT")
		})
	}
	assert.Empty(t, e.sim.Transfers())
}

// bodyWith returns a valid transfer body with one field replaced (a nil value drops it).
func bodyWith(field string, value any) string {
	m := map[string]any{}
	_ = json.Unmarshal([]byte(transferJSON("46733123499", "x", "1")), &m)
	if value == nil {
		delete(m, field)
	} else {
		m[field] = value
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestTransfer_MessagesUpTo160Characters(t *testing.T) {
	e := newEnv(t, Config{})
	tok := e.token(ProductDisbursement)
	post := func(body string) answer {
		return e.do(http.MethodPost, "/disbursement/v1_0/transfer",
			postHeaders(ProductDisbursement, tok, uuid.NewString()), body)
	}

	assert.Equal(t, http.StatusAccepted, post(bodyWith("payerMessage", strings.Repeat("a", 160))).status)
	assert.Equal(t, http.StatusAccepted, post(bodyWith("payeeNote", strings.Repeat("é", 160))).status)
	requireError(t, post(bodyWith("payerMessage", strings.Repeat("a", 161))),
		http.StatusBadRequest, "INVALID_PAYER_MESSAGE")
	requireError(t, post(bodyWith("payeeNote", strings.Repeat("é", 161))),
		http.StatusBadRequest, "INVALID_PAYEE_NOTE")
	assert.Len(t, e.sim.Transfers(), 2)
}

func TestTransfer_RefusesBadBodies(t *testing.T) {
	e := newEnv(t, Config{})
	payee := func(kind, id string) map[string]string {
		return map[string]string{"partyIdType": kind, "partyId": id}
	}
	cases := []struct {
		name, body, code string
	}{
		{"zero amount", bodyWith("amount", "0"), "INVALID_AMOUNT"},
		{"negative amount", bodyWith("amount", "-5"), "INVALID_AMOUNT"},
		{"three decimals", bodyWith("amount", "1.234"), "INVALID_AMOUNT"},
		{"exponent", bodyWith("amount", "1e3"), "INVALID_AMOUNT"},
		{"empty amount", bodyWith("amount", ""), "INVALID_AMOUNT"},
		{"numeric amount", bodyWith("amount", 1500), "INVALID_REQUEST"},
		{"missing currency", bodyWith("currency", nil), "INVALID_CURRENCY"},
		{"missing externalId", bodyWith("externalId", nil), "INVALID_EXTERNAL_ID"},
		{"missing payee", bodyWith("payee", nil), "INVALID_PAYEE"},
		{"alias party type", bodyWith("payee", payee("ALIAS", "bob")), "INVALID_PAYEE"},
		{"msisdn with plus", bodyWith("payee", payee("MSISDN", "+46733123499")), "INVALID_PAYEE"},
		{"empty msisdn", bodyWith("payee", payee("MSISDN", "")), "INVALID_PAYEE"},
		{"email without at", bodyWith("payee", payee("EMAIL", "bob")), "INVALID_PAYEE"},
		{"empty party code", bodyWith("payee", payee("PARTY_CODE", "")), "INVALID_PAYEE"},
		{"not json", "amount=1", "INVALID_REQUEST"},
		{"empty body", "", "INVALID_REQUEST"},
	}
	tok := e.token(ProductDisbursement)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := e.do(http.MethodPost, "/disbursement/v1_0/transfer",
				postHeaders(ProductDisbursement, tok, uuid.NewString()), tc.body)
			requireError(t, a, http.StatusBadRequest, tc.code)
		})
	}
	assert.Empty(t, e.sim.Transfers())
}

func TestTransfer_RefusesNonJSONContentType(t *testing.T) {
	e := newEnv(t, Config{})
	h := postHeaders(ProductDisbursement, e.token(ProductDisbursement), uuid.NewString())
	h["Content-Type"] = "text/plain"
	a := e.do(http.MethodPost, "/disbursement/v1_0/transfer", h, transferJSON("46733123499", "x", "1"))

	requireError(t, a, http.StatusBadRequest, "INVALID_REQUEST")
}

func TestTransfer_AcceptsOtherPartyTypesAndDecimals(t *testing.T) {
	e := newEnv(t, Config{})
	tok := e.token(ProductRemittance)
	bodies := []string{
		bodyWith("payee", map[string]string{"partyIdType": "EMAIL", "partyId": "bob@example.com"}),
		bodyWith("payee", map[string]string{"partyIdType": "PARTY_CODE", "partyId": "ab12"}),
		bodyWith("amount", "0.5"),
		bodyWith("amount", "1500.25"),
		bodyWith("payerMessage", nil),
	}
	for _, body := range bodies {
		a := e.do(http.MethodPost, "/remittance/v1_0/transfer",
			postHeaders(ProductRemittance, tok, uuid.NewString()), body)
		assert.Equal(t, http.StatusAccepted, a.status, "body %s: %s", body, a.body)
	}
}

func TestTransfer_CallbackURLMustMatchProviderHost(t *testing.T) {
	e := newEnv(t, Config{CallbackHost: "hooks.example.com"})
	tok := e.token(ProductDisbursement)
	post := func(callback string) answer {
		h := postHeaders(ProductDisbursement, tok, uuid.NewString())
		h["X-Callback-Url"] = callback
		return e.do(http.MethodPost, "/disbursement/v1_0/transfer", h, transferJSON("46733123499", "x", "1"))
	}

	assert.Equal(t, http.StatusAccepted, post("https://hooks.example.com/momo").status)
	assert.Equal(t, http.StatusAccepted, post("http://HOOKS.example.com:8080/momo").status)
	requireError(t, post("https://evil.example.com/momo"), http.StatusBadRequest, "INVALID_CALLBACK_URL_HOST")
	requireError(t, post("not a url"), http.StatusBadRequest, "INVALID_CALLBACK_URL_HOST")

	// An empty X-Callback-Url is refused even though the header is otherwise optional.
	req, err := http.NewRequest(http.MethodPost, e.url+"/disbursement/v1_0/transfer",
		strings.NewReader(transferJSON("46733123499", "x", "1")))
	require.NoError(t, err)
	for k, v := range postHeaders(ProductDisbursement, tok, uuid.NewString()) {
		req.Header.Set(k, v)
	}
	req.Header["X-Callback-Url"] = []string{""}
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	assert.Len(t, e.sim.Transfers(), 2)
}

func TestTransfer_AnyCallbackHostWhenUnconfigured(t *testing.T) {
	e := newEnv(t, Config{})
	h := postHeaders(ProductDisbursement, e.token(ProductDisbursement), uuid.NewString())
	h["X-Callback-Url"] = "http://anything.example.org/cb"
	a := e.do(http.MethodPost, "/disbursement/v1_0/transfer", h, transferJSON("46733123499", "x", "1"))

	require.Equal(t, http.StatusAccepted, a.status)
	assert.Equal(t, "http://anything.example.org/cb", e.sim.Transfers()[0].CallbackURL)
}

func TestTransfer_StatusFormsVaryByReferenceButStayStable(t *testing.T) {
	e := newEnv(t, Config{})
	forms := map[string]bool{}
	for range 32 {
		failed := e.mustPost(ProductDisbursement, "46733123451", "x", "1")
		ok := e.mustPost(ProductDisbursement, "46733123499", "x", "1")

		reason := e.get(ProductDisbursement, failed).json(t)["reason"]
		require.Equal(t, reason, e.get(ProductDisbursement, failed).json(t)["reason"])
		switch reason.(type) {
		case string:
			forms["reason string"] = true
		case map[string]any:
			forms["reason object"] = true
		}
		switch e.get(ProductDisbursement, ok).json(t)["financialTransactionId"].(type) {
		case string:
			forms["id string"] = true
		case float64:
			forms["id number"] = true
		}
	}
	assert.Len(t, forms, 4, "forms seen: %v", forms)
}

func TestTransfer_UnknownProductIsNotFound(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.do(http.MethodPost, "/collection/token/", tokenHeaders(ProductDisbursement), "")
	assert.Equal(t, http.StatusNotFound, a.status)
}
