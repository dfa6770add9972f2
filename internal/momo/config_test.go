package momo

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validConfig() Config {
	return Config{
		BaseURL:           "https://sandbox.momodeveloper.mtn.com",
		TargetEnvironment: testEnv,
		APIUser:           testAPIUser,
		APIKey:            testAPIKey,
		SubscriptionKeys:  map[Product]string{Disbursement: testDisbKey},
	}
}

func TestNew_ErrorNamesBadFieldNotItsValue(t *testing.T) {
	cases := []struct {
		field  string
		mutate func(*Config)
	}{
		{"BaseURL", func(c *Config) { c.BaseURL = "" }},
		{"BaseURL", func(c *Config) { c.BaseURL = "sandbox.momodeveloper.mtn.com/" + testAPIKey }},
		{"TargetEnvironment", func(c *Config) { c.TargetEnvironment = " " }},
		{"APIUser", func(c *Config) { c.APIUser = "" }},
		{"APIKey", func(c *Config) { c.APIKey = "" }},
		{"SubscriptionKeys", func(c *Config) { c.SubscriptionKeys = nil }},
		{"SubscriptionKeys[remittance]", func(c *Config) { c.SubscriptionKeys[Remittance] = "" }},
		{"SubscriptionKeys", func(c *Config) { c.SubscriptionKeys["collection"] = testRemitKey }},
		{"CallbackURL", func(c *Config) { c.CallbackURL = "/callback?k=" + testAPIKey }},
		{"TokenRefreshBefore", func(c *Config) { c.TokenRefreshBefore = -time.Second }},
	}
	for _, tc := range cases {
		cfg := validConfig()
		tc.mutate(&cfg)

		c, err := New(cfg)

		assert.Nil(t, c)
		require.ErrorIs(t, err, ErrConfig, tc.field)
		assert.Contains(t, err.Error(), tc.field)
		for _, secret := range []string{testAPIKey, testDisbKey, testRemitKey} {
			assert.NotContains(t, err.Error(), secret)
		}
		assert.Equal(t, ClassConfig, Classify(err))
	}
}

func TestNew_AppliesDefaults(t *testing.T) {
	c, err := New(validConfig())
	require.NoError(t, err)

	assert.Equal(t, DefaultTokenRefreshBefore, c.cfg.TokenRefreshBefore)
	require.NotNil(t, c.cfg.HTTPClient)
	assert.Equal(t, DefaultHTTPTimeout, c.cfg.HTTPClient.Timeout)
	assert.Equal(t, http.ErrUseLastResponse, c.cfg.HTTPClient.CheckRedirect(nil, nil))
}

func TestNew_CopiesSubscriptionKeys(t *testing.T) {
	cfg := validConfig()
	c, err := New(cfg)
	require.NoError(t, err)

	delete(cfg.SubscriptionKeys, Disbursement)

	key, err := c.subscriptionKey(Disbursement)
	require.NoError(t, err)
	assert.Equal(t, testDisbKey, key)
}

func TestNew_TrailingSlashesInBaseURLTolerated(t *testing.T) {
	f := setup(t, func(c *Config) { c.BaseURL = strings.TrimRight(c.BaseURL, "/") + "//" })
	calls := f.serveToken(Disbursement, nil)

	_, err := f.client.Token(context.Background(), Disbursement)

	require.NoError(t, err)
	assert.Equal(t, int32(1), calls.Load())
}

func TestParseProduct_IgnoresCase(t *testing.T) {
	for in, want := range map[string]Product{
		"disbursement": Disbursement, "Disbursement": Disbursement, " REMITTANCE ": Remittance,
	} {
		p, err := ParseProduct(in)
		require.NoError(t, err)
		assert.Equal(t, want, p)
	}

	_, err := ParseProduct("collection")
	require.ErrorIs(t, err, ErrUnknownProduct)
	assert.Contains(t, err.Error(), `"collection"`)
}
