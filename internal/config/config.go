// Package config reads the settings every command shares from the environment.
//
// Secrets (the API key and the subscription keys) come from the environment or from a file named
// by the variable with a _FILE suffix, never from flags, so they stay out of shell histories and
// process listings.
package config

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
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

// DefaultStatusRate is MTN's guidance: about 10 status queries a second per client. With
// callbacks, or with MTN's agreement, raise it through PAYOUT_STATUS_RATE; 0 lifts the cap.
const DefaultStatusRate = 10

// momoHTTPClient is the MoMo client's HTTP client: the timeout of one round trip, and no
// redirects (a redirected POST would be resent as a GET).
func momoHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

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

	// Worker settings.
	Concurrency  map[momo.Product]int // PAYOUT_CONCURRENCY_DISBURSEMENT, _REMITTANCE
	Retention    time.Duration        // PAYOUT_RETENTION: finished transfer tasks in the monitor; 0 keeps none. Defaults to 1 h.
	StatusRate   int                  // PAYOUT_STATUS_RATE: status queries a second, all workers together. Defaults to 10.
	HTTPTimeout  time.Duration        // PAYOUT_HTTP_TIMEOUT: one MoMo round trip. Defaults to 30 s.
	Schedules    string               // PAYOUT_SCHEDULES: recurring runs file
	MonitorAddr  string               // PAYOUT_MONITOR_ADDR: as -monitor-addr
	CallbackAddr string               // PAYOUT_CALLBACK_ADDR: as -callback-addr
	ReadOnly     bool                 // PAYOUT_MONITOR_READ_ONLY: as -monitor-read-only

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
	integer := func(name string, def int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a whole number of zero or more", name, v))
			return def
		}
		return n
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
	c.Retention = tasks.DefaultRetention
	if v := getenv("PAYOUT_RETENTION"); v == "0" {
		c.Retention = -1 // keep no finished task
	} else {
		c.Retention = duration("PAYOUT_RETENTION", tasks.DefaultRetention)
	}
	c.HTTPTimeout = duration("PAYOUT_HTTP_TIMEOUT", momo.DefaultHTTPTimeout)
	c.MoMo.HTTPClient = momoHTTPClient(c.HTTPTimeout)
	c.StatusRate = integer("PAYOUT_STATUS_RATE", DefaultStatusRate)
	c.Concurrency = map[momo.Product]int{}
	for _, p := range tasks.Products {
		name := "PAYOUT_CONCURRENCY_" + strings.ToUpper(string(p))
		if n := integer(name, 0); n > 0 {
			c.Concurrency[p] = n
		}
	}
	c.Schedules = getenv("PAYOUT_SCHEDULES")
	c.MonitorAddr = getenv("PAYOUT_MONITOR_ADDR")
	c.CallbackAddr = getenv("PAYOUT_CALLBACK_ADDR")
	if v := getenv("PAYOUT_MONITOR_READ_ONLY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PAYOUT_MONITOR_READ_ONLY=%q is not true or false", v))
		}
		c.ReadOnly = b
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
