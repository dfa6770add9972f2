package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/momo"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestFromEnv_DefaultsAndValues(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"MOMO_BASE_URL": "https://sandbox.momodeveloper.mtn.com", "MOMO_TARGET_ENVIRONMENT": "sandbox",
		"MOMO_API_USER": "3f1d2c9e-7a4b-4c1e-9f2a-5b6d7e8f9a01", "MOMO_API_KEY": "k", "MOMO_DISBURSEMENT_KEY": "d",
		"PAYOUT_POLL_INITIAL": "250ms", "MOMO_CALLBACK_URL": "  ",
	}))
	require.NoError(t, err)
	assert.Equal(t, DefaultRedisAddr, c.RedisAddr)
	assert.Equal(t, 250*time.Millisecond, c.PollInitial)
	assert.Equal(t, 10*time.Second, c.PollMax)
	assert.Empty(t, c.MoMo.CallbackURL, "a blank callback URL is no callback URL")
	assert.Equal(t, []momo.Product{momo.Disbursement}, c.ConfiguredProducts())
	assert.NoError(t, c.RequireMoMo(momo.Disbursement))
}

func TestRequireMoMo_NamesEveryMissingVariable(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"MOMO_API_USER": "u"}))
	require.NoError(t, err)
	err = c.RequireMoMo(momo.Remittance)
	require.Error(t, err)
	for _, name := range []string{"MOMO_BASE_URL", "MOMO_TARGET_ENVIRONMENT", "MOMO_API_KEY", "MOMO_REMITTANCE_KEY"} {
		assert.Contains(t, err.Error(), name)
	}
	assert.NotContains(t, err.Error(), "MOMO_API_USER")
}

func TestFromEnv_BadDurationIsNamed(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"PAYOUT_POLL_WINDOW": "ten minutes"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PAYOUT_POLL_WINDOW")
}

func TestSecret_FromFileAndNotBoth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(path, []byte("s3cret\n"), 0o600))
	v, err := Secret(env(map[string]string{"MOMO_API_KEY_FILE": path}), "MOMO_API_KEY")
	require.NoError(t, err)
	assert.Equal(t, "s3cret", v)

	_, err = Secret(env(map[string]string{"MOMO_API_KEY_FILE": path, "MOMO_API_KEY": "x"}), "MOMO_API_KEY")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")

	_, err = Secret(env(map[string]string{"MOMO_API_KEY_FILE": "/nonexistent/key"}), "MOMO_API_KEY")
	assert.ErrorContains(t, err, "MOMO_API_KEY_FILE")
}

func TestRedisConnOpt_URLWinsOverAddr(t *testing.T) {
	c := Config{RedisAddr: "127.0.0.1:1", RedisURL: "redis://127.0.0.1:6390/2"}
	_, err := c.RedisConnOpt()
	require.NoError(t, err)
	c.RedisURL = "mysql://x"
	_, err = c.RedisConnOpt()
	assert.ErrorContains(t, err, "REDIS_URL")
}

func TestRequireMoMo_APIUserMustBeAUUID(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"MOMO_BASE_URL": "http://x", "MOMO_TARGET_ENVIRONMENT": "sandbox",
		"MOMO_API_USER": "not-a-uuid", "MOMO_API_KEY": "k", "MOMO_DISBURSEMENT_KEY": "d",
	}))
	require.NoError(t, err)
	assert.ErrorContains(t, c.RequireMoMo(momo.Disbursement), "MOMO_API_USER")
}

func TestRedisConnOpt_ClusterSeedsWin(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"REDIS_CLUSTER_ADDRS": "127.0.0.1:7001, 127.0.0.1:7002,",
		"REDIS_URL": "redis://127.0.0.1:6379/0"}))
	require.NoError(t, err)
	opt, err := c.RedisConnOpt()
	require.NoError(t, err)
	cluster, ok := opt.(asynq.RedisClusterClientOpt)
	require.True(t, ok, "%T", opt)
	assert.Equal(t, []string{"127.0.0.1:7001", "127.0.0.1:7002"}, cluster.Addrs)
}

func TestLoadFile_ExampleLoadsAndTheEnvironmentWins(t *testing.T) {
	vars, err := LoadFile("../../configs/worker.example.yaml")
	require.NoError(t, err)
	c, err := FromEnv(WithFile(env(map[string]string{"PAYOUT_POLL_MAX": "3s"}), vars))
	require.NoError(t, err)
	assert.Equal(t, "sandbox", c.MoMo.TargetEnvironment)
	assert.Equal(t, 3*time.Second, c.PollMax, "the environment wins over the file")
	assert.Equal(t, time.Second, c.PollInitial)
	assert.Equal(t, 5, c.Concurrency[momo.Remittance])
	assert.Equal(t, 10, c.StatusRate)
}

func TestLoadFile_RefusesSecretsAndNamesBadFields(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.yaml")
	require.NoError(t, os.WriteFile(path, []byte("momo:\n  api_key: hunter2\n"), 0o600))
	_, err := LoadFile(path)
	require.ErrorContains(t, err, "momo.api_key")
	assert.NotContains(t, err.Error(), "hunter2")

	require.NoError(t, os.WriteFile(path, []byte("polling:\n  intial: 1s\n"), 0o600))
	_, err = LoadFile(path)
	assert.ErrorContains(t, err, "intial")

	require.NoError(t, os.WriteFile(path, []byte("polling:\n  initial: soon\nworker:\n  status_rate: lots\n"), 0o600))
	vars, err := LoadFile(path)
	require.NoError(t, err)
	_, err = FromEnv(WithFile(env(nil), vars))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PAYOUT_POLL_INITIAL")
	assert.Contains(t, err.Error(), "PAYOUT_STATUS_RATE")
}
