// Package config reads the settings every command shares from the environment.
//
// Secrets (the API key and the subscription keys) come from the environment or from a file named
// by the variable with a _FILE suffix, never from flags, so they stay out of shell histories and
// process listings.
package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

// DefaultRedisAddr is used when neither REDIS_ADDR nor REDIS_URL is set.
const DefaultRedisAddr = "127.0.0.1:6379"

// Config is the shared configuration.
type Config struct {
	RedisAddr string // REDIS_ADDR. Defaults to 127.0.0.1:6379.
	RedisURL  string // REDIS_URL: redis://, rediss:// or redis-sentinel://; wins over REDIS_ADDR.
	// RedisClusterAddrs are seed addresses of a Redis Cluster (REDIS_CLUSTER_ADDRS, comma
	// separated); they win over both. Every ledger key of a batch shares one hash tag, so the
	// ledger's scripts work on a cluster, as Asynq's do.
	RedisClusterAddrs []string

	MoMo momo.Config

	PollInitial time.Duration // PAYOUT_POLL_INITIAL. Defaults to tasks.DefaultPollInitial.
	PollMax     time.Duration // PAYOUT_POLL_MAX. Defaults to tasks.DefaultPollMax.
	PollWindow  time.Duration // PAYOUT_POLL_WINDOW. Defaults to tasks.DefaultPollWindow.

	// Amount guards of enqueue, per currency in minor units; see intake.Limits.
	MaxRowAmount   map[string]int64 // PAYOUT_MAX_ROW_AMOUNT, e.g. "EUR 5000, UGX 20000000"
	MaxBatchAmount map[string]int64 // PAYOUT_MAX_BATCH_AMOUNT
	ConfirmAbove   map[string]int64 // PAYOUT_CONFIRM_ABOVE: totals above need -confirm-total
}

// Getenv looks a variable up; os.Getenv in production, a map in tests.
type Getenv func(string) string

// FromEnv reads the configuration. It checks the form of what is set; RequireMoMo checks that
// what the MoMo client needs is there.
func FromEnv(getenv Getenv) (Config, error) {
	var errs []error
	c := Config{
		RedisAddr: getenv("REDIS_ADDR"),
		RedisURL:  getenv("REDIS_URL"),
		MoMo: momo.Config{
			BaseURL:           getenv("MOMO_BASE_URL"),
			TargetEnvironment: getenv("MOMO_TARGET_ENVIRONMENT"),
			APIUser:           getenv("MOMO_API_USER"),
			CallbackURL:       strings.TrimSpace(getenv("MOMO_CALLBACK_URL")),
			SubscriptionKeys:  map[momo.Product]string{},
		},
	}
	if c.RedisAddr == "" {
		c.RedisAddr = DefaultRedisAddr
	}
	for _, a := range strings.Split(getenv("REDIS_CLUSTER_ADDRS"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.RedisClusterAddrs = append(c.RedisClusterAddrs, a)
		}
	}
	secret := func(name string) string {
		v, err := Secret(getenv, name)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	c.MoMo.APIKey = secret("MOMO_API_KEY")
	if k := secret("MOMO_DISBURSEMENT_KEY"); k != "" {
		c.MoMo.SubscriptionKeys[momo.Disbursement] = k
	}
	if k := secret("MOMO_REMITTANCE_KEY"); k != "" {
		c.MoMo.SubscriptionKeys[momo.Remittance] = k
	}
	duration := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a positive Go duration such as 2s or 5m", name, v))
			return def
		}
		return d
	}
	c.PollInitial = duration("PAYOUT_POLL_INITIAL", tasks.DefaultPollInitial)
	c.PollMax = duration("PAYOUT_POLL_MAX", tasks.DefaultPollMax)
	c.PollWindow = duration("PAYOUT_POLL_WINDOW", tasks.DefaultPollWindow)
	amounts := func(name string) map[string]int64 {
		m, err := ParseAmounts(getenv(name))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		return m
	}
	c.MaxRowAmount = amounts("PAYOUT_MAX_ROW_AMOUNT")
	c.MaxBatchAmount = amounts("PAYOUT_MAX_BATCH_AMOUNT")
	c.ConfirmAbove = amounts("PAYOUT_CONFIRM_ABOVE")
	return c, errors.Join(errs...)
}

// Secret reads a secret from NAME, or from the file named by NAME_FILE. Setting both is an
// error, since one of them would be silently ignored.
func Secret(getenv Getenv, name string) (string, error) {
	v, file := getenv(name), getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		return "", fmt.Errorf("set %s or %s_FILE, not both", name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: cannot read the file it names: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return v, nil
}

// RequireMoMo reports every MoMo setting that products need and that is missing, by variable.
func (c Config) RequireMoMo(products ...momo.Product) error {
	var missing []string
	need := func(v, name string) {
		if v == "" {
			missing = append(missing, name)
		}
	}
	need(c.MoMo.BaseURL, "MOMO_BASE_URL")
	need(c.MoMo.TargetEnvironment, "MOMO_TARGET_ENVIRONMENT")
	need(c.MoMo.APIUser, "MOMO_API_USER")
	need(c.MoMo.APIKey, "MOMO_API_KEY")
	for _, p := range products {
		need(c.MoMo.SubscriptionKeys[p], "MOMO_"+strings.ToUpper(string(p))+"_KEY")
	}
	if len(missing) > 0 {
		return fmt.Errorf("config: missing required setting(s): %s (see README, Configuration)",
			strings.Join(missing, ", "))
	}
	if _, err := uuid.Parse(c.MoMo.APIUser); err != nil {
		return errors.New("config: MOMO_API_USER must be the API user's UUID")
	}
	return nil
}

// ConfiguredProducts returns the products that have a subscription key.
func (c Config) ConfiguredProducts() []momo.Product {
	var ps []momo.Product
	for _, p := range tasks.Products {
		if c.MoMo.SubscriptionKeys[p] != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// RedisConnOpt returns Asynq's connection options for the configured Redis.
func (c Config) RedisConnOpt() (asynq.RedisConnOpt, error) {
	if len(c.RedisClusterAddrs) > 0 {
		return asynq.RedisClusterClientOpt{Addrs: c.RedisClusterAddrs}, nil
	}
	if c.RedisURL == "" {
		return asynq.RedisClientOpt{Addr: c.RedisAddr}, nil
	}
	opt, err := asynq.ParseRedisURI(c.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("config: REDIS_URL: %w", err)
	}
	return opt, nil
}

// Redis returns Asynq's options and a go-redis client on the same Redis.
func (c Config) Redis() (asynq.RedisConnOpt, redis.UniversalClient, error) {
	opt, err := c.RedisConnOpt()
	if err != nil {
		return nil, nil, err
	}
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, nil, errors.New("config: unexpected Redis client type")
	}
	return opt, rdb, nil
}
