package httpapi_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/httpapi"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestCredentialsFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "password")
	require.NoError(t, os.WriteFile(file, []byte(testPassword+"\n"), 0o600))

	cases := []struct {
		name    string
		env     map[string]string
		want    *httpapi.Credentials
		wantErr string
	}{
		{"none", map[string]string{}, nil, ""},
		{"both", map[string]string{"PAYOUT_MONITOR_USER": "ops", "PAYOUT_MONITOR_PASSWORD": testPassword},
			&httpapi.Credentials{User: "ops", Password: testPassword}, ""},
		{"password from a file", map[string]string{"PAYOUT_MONITOR_USER": "ops", "PAYOUT_MONITOR_PASSWORD_FILE": file},
			&httpapi.Credentials{User: "ops", Password: testPassword}, ""},
		{"user only", map[string]string{"PAYOUT_MONITOR_USER": "ops"}, nil, "set both PAYOUT_MONITOR_USER and PAYOUT_MONITOR_PASSWORD"},
		{"password only", map[string]string{"PAYOUT_MONITOR_PASSWORD": testPassword}, nil, "set both"},
		{"short password", map[string]string{"PAYOUT_MONITOR_USER": "ops", "PAYOUT_MONITOR_PASSWORD": "hunter2"},
			nil, "PAYOUT_MONITOR_PASSWORD must have at least 12 characters"},
		{"colon in user", map[string]string{"PAYOUT_MONITOR_USER": "o:ps", "PAYOUT_MONITOR_PASSWORD": testPassword},
			nil, "must not contain ':'"},
		{"value and file", map[string]string{"PAYOUT_MONITOR_USER": "ops", "PAYOUT_MONITOR_PASSWORD": testPassword,
			"PAYOUT_MONITOR_PASSWORD_FILE": file}, nil, "not both"},
		{"unreadable file", map[string]string{"PAYOUT_MONITOR_USER": "ops",
			"PAYOUT_MONITOR_PASSWORD_FILE": file + ".missing"}, nil, "PAYOUT_MONITOR_PASSWORD_FILE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := httpapi.CredentialsFromEnv(envOf(tc.env))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				assert.NotContains(t, err.Error(), testPassword)
				assert.NotContains(t, err.Error(), "hunter2")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestCheckExposure_NetworkNeedsCredentials(t *testing.T) {
	creds := &httpapi.Credentials{User: "ops", Password: testPassword}
	for _, addr := range []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "127.0.0.2:9"} {
		assert.True(t, httpapi.IsLoopback(addr), addr)
		assert.NoError(t, httpapi.CheckExposure(addr, nil), addr)
	}
	for _, addr := range []string{":8080", "0.0.0.0:8080", "[::]:8080", "10.0.0.5:8080", "monitor.internal:8080", "garbage"} {
		assert.False(t, httpapi.IsLoopback(addr), addr)
		err := httpapi.CheckExposure(addr, nil)
		require.Error(t, err, addr)
		assert.True(t, errors.Is(err, httpapi.ErrExposed))
		assert.Contains(t, err.Error(), "PAYOUT_MONITOR_USER")
		assert.NoError(t, httpapi.CheckExposure(addr, creds), "%s with a password", addr)
	}
}
