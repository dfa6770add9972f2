// Package testutil gives integration tests their real Redis.
package testutil

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisAddr is the Redis the integration tests use: REDIS_ADDR, or 127.0.0.1:6379.
func RedisAddr() string {
	if a := os.Getenv("REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// Redis returns a client on database db of the test Redis, flushed, and flushed again when the
// test ends. Each test package uses its own db, because go test runs packages in parallel and
// Asynq's keys are global to a database. The test fails when Redis cannot be reached: these
// tests are the real thing, not to be skipped silently.
func Redis(t testing.TB, db int) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: RedisAddr(), DB: db})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("integration test needs Redis at %s (set REDIS_ADDR, or run .ci/run, which starts one): %v",
			RedisAddr(), err)
	}
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("flush Redis db %d: %v", db, err)
	}
	t.Cleanup(func() {
		_ = rdb.FlushDB(context.Background()).Err()
		_ = rdb.Close()
	})
	return rdb
}
