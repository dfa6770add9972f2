package worker

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startRedis runs a private redis-server with the given settings, so the test can choose them
// without touching the shared one.
func startRedis(t *testing.T, args ...string) *redis.Client {
	t.Helper()
	return startRedisConf(t, "", args...)
}

// startRedisConf is startRedis reading the configuration file conf first, when not empty.
func startRedisConf(t *testing.T, conf string, args ...string) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (.ci/run installs it)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	var all []string
	if conf != "" {
		all = append(all, conf)
	}
	all = append(all, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--dir", t.TempDir())
	cmd := exec.Command(bin, append(all, args...)...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	t.Cleanup(func() { _ = rdb.Close() })
	require.Eventually(t, func() bool { return rdb.Ping(context.Background()).Err() == nil },
		5*time.Second, 20*time.Millisecond)
	return rdb
}

func TestCheckDurability_AOFAndNoEvictionPass(t *testing.T) {
	rdb := startRedis(t, "--appendonly", "yes", "--maxmemory-policy", "noeviction")
	problems, err := CheckDurability(context.Background(), rdb)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func TestCheckDurability_NoAOFAndEvictionAreBothReported(t *testing.T) {
	rdb := startRedis(t, "--appendonly", "no", "--maxmemory-policy", "allkeys-lru")
	problems, err := CheckDurability(context.Background(), rdb)
	require.NoError(t, err)
	require.Len(t, problems, 2)
	assert.Contains(t, problems[0], "appendonly")
	assert.Contains(t, problems[1], "allkeys-lru")
}

func TestCheckDurability_UnreadableSettingsAreAnError(t *testing.T) {
	// miniredis has no CONFIG GET: the worker must say it could not check, not that all is well.
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer rdb.Close()
	_, err := CheckDurability(context.Background(), rdb)
	assert.Error(t, err)
}

func TestCheckDurability_ShippedRedisConfigPasses(t *testing.T) {
	rdb := startRedisConf(t, "../../configs/redis.conf")
	ctx := context.Background()
	problems, err := CheckDurability(ctx, rdb)
	require.NoError(t, err)
	assert.Empty(t, problems)
	fsync, err := rdb.ConfigGet(ctx, "appendfsync").Result()
	require.NoError(t, err)
	assert.Equal(t, "always", fsync["appendfsync"], "the shipped config fsyncs every write")
}
