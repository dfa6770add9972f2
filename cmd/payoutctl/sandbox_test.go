package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
)

// sandboxEnv points the MoMo settings at a simulator with no API user configured, as a
// newcomer's environment is before provisioning. Redis is deliberately unreachable.
func sandboxEnv(t *testing.T) *momosim.Server {
	t.Helper()
	sim := startSim(t, momosim.Config{})
	t.Setenv("MOMO_API_USER", "")
	t.Setenv("MOMO_API_KEY", "")
	t.Setenv("REDIS_URL", "")
	t.Setenv("REDIS_ADDR", "127.0.0.1:1")
	return sim
}

var exportLines = regexp.MustCompile(`^export MOMO_API_USER=(\S+)\nexport MOMO_API_KEY=(\S+)\n$`)

func TestSandboxUser_CreatesAWorkingUserAndKey(t *testing.T) {
	sandboxEnv(t)
	code, out, stderr := ctl(t, "sandbox-user", "-callback-host", "payouts.example.com")
	require.Equal(t, 0, code, stderr)

	m := exportLines.FindStringSubmatch(out)
	require.NotNil(t, m, "stdout is exactly the two export lines: %q", out)
	user, key := m[1], m[2]
	u, err := uuid.Parse(user)
	require.NoError(t, err)
	assert.Equal(t, uuid.Version(4), u.Version())
	assert.Len(t, key, 32)
	assert.NotContains(t, stderr, key, "the key goes to stdout only")
	assert.NotContains(t, stderr, momosim.DefaultDisbursementKey)
	assert.Contains(t, stderr, "callback host payouts.example.com")

	// The new credentials get a token, and the user has the callback host asked for.
	client, err := momo.New(momo.Config{
		BaseURL: os.Getenv("MOMO_BASE_URL"), TargetEnvironment: "sandbox", APIUser: user, APIKey: key,
		SubscriptionKeys: map[momo.Product]string{momo.Disbursement: momosim.DefaultDisbursementKey},
	})
	require.NoError(t, err)
	_, err = client.Token(context.Background(), momo.Disbursement)
	require.NoError(t, err)
	assert.Equal(t, "payouts.example.com", userCallbackHost(t, user))
}

func TestSandboxUser_CallbackHostFromCallbackURL(t *testing.T) {
	sandboxEnv(t)
	t.Setenv("MOMO_CALLBACK_URL", "https://hooks.example.org:8443/momo")
	code, out, stderr := ctl(t, "sandbox-user")
	require.Equal(t, 0, code, stderr)
	m := exportLines.FindStringSubmatch(out)
	require.NotNil(t, m)
	assert.Equal(t, "hooks.example.org", userCallbackHost(t, m[1]))
}

func TestSandboxUser_RefusedOutsideTheSandbox(t *testing.T) {
	sandboxEnv(t)
	t.Setenv("MOMO_TARGET_ENVIRONMENT", "mtnuganda")
	code, out, stderr := ctl(t, "sandbox-user")
	assert.Equal(t, cli.ExitFailure, code)
	assert.Empty(t, out)
	assert.Contains(t, stderr, `MOMO_TARGET_ENVIRONMENT is "mtnuganda", not "sandbox"`)
}

func TestSandboxUser_BadInputAndRefusals(t *testing.T) {
	sandboxEnv(t)
	code, _, stderr := ctl(t, "sandbox-user", "-callback-host", "https://example.com/cb")
	assert.Equal(t, cli.ExitUsage, code, stderr)
	code, _, _ = ctl(t, "sandbox-user", "-product", "collection")
	assert.Equal(t, cli.ExitUsage, code)
	code, _, _ = ctl(t, "sandbox-user", "extra")
	assert.Equal(t, cli.ExitUsage, code)

	code, _, stderr = ctl(t, "sandbox-user", "-product", "remittance")
	assert.Equal(t, cli.ExitFailure, code)
	assert.Contains(t, stderr, "MOMO_REMITTANCE_KEY")

	t.Setenv("MOMO_DISBURSEMENT_KEY", "wrong-subscription-key")
	code, out, stderr := ctl(t, "sandbox-user")
	assert.Equal(t, cli.ExitFailure, code)
	assert.Empty(t, out)
	assert.Contains(t, stderr, "create api user: 401")
	assert.NotContains(t, stderr, "wrong-subscription-key")
}

// userCallbackHost asks the simulator for an API user's providerCallbackHost.
func userCallbackHost(t *testing.T, user string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, os.Getenv("MOMO_BASE_URL")+"/v1_0/apiuser/"+user, nil)
	require.NoError(t, err)
	req.Header.Set("Ocp-Apim-Subscription-Key", momosim.DefaultDisbursementKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body struct {
		ProviderCallbackHost string `json:"providerCallbackHost"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return strings.TrimSpace(body.ProviderCallbackHost)
}
