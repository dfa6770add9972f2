package worker

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// CheckDurability reads Redis's appendonly and maxmemory-policy settings and returns what
// could lose payouts: without AOF a restart forgets submitted payouts, and an eviction policy
// other than noeviction can drop ledger keys or task leases under memory pressure. An empty
// result means Redis looks durable.
func CheckDurability(ctx context.Context, rdb redis.UniversalClient) ([]string, error) {
	var problems []string
	aof, err := configGet(ctx, rdb, "appendonly")
	if err != nil {
		return nil, err
	}
	if aof != "yes" {
		problems = append(problems, fmt.Sprintf("appendonly is %q: a Redis restart loses the "+
			"ledger and the queues (set appendonly yes)", aof))
	}
	policy, err := configGet(ctx, rdb, "maxmemory-policy")
	if err != nil {
		return nil, err
	}
	if policy != "noeviction" {
		problems = append(problems, fmt.Sprintf("maxmemory-policy is %q: Redis may evict payout "+
			"keys under memory pressure (set maxmemory-policy noeviction)", policy))
	}
	return problems, nil
}

func configGet(ctx context.Context, rdb redis.UniversalClient, name string) (string, error) {
	res, err := rdb.ConfigGet(ctx, name).Result()
	if err != nil {
		return "", fmt.Errorf("worker: read Redis %s: %w", name, err)
	}
	for k, v := range res {
		if strings.EqualFold(k, name) {
			return v, nil
		}
	}
	return "", fmt.Errorf("worker: Redis did not report %s", name)
}
