package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/momo"
)

// Readiness settings.
const (
	// CheckTimeout bounds one readiness check.
	CheckTimeout = 3 * time.Second
	// readyCacheFor is how long a readiness answer is reused, so that probes cannot make the
	// worker ask MoMo for tokens in a loop while MoMo refuses them.
	readyCacheFor = time.Second
)

// Check is one condition of readiness.
type Check struct {
	// Name says what failed in /readyz's answer: "redis", "momo_token_disbursement".
	Name string
	// Run returns nil when the condition holds. Its error is logged, never shown.
	Run func(context.Context) error
}

// RedisCheck is ready when Redis answers PING.
func RedisCheck(rdb redis.UniversalClient) Check {
	return Check{Name: "redis", Run: func(ctx context.Context) error {
		return rdb.Ping(ctx).Err()
	}}
}

// TokenSource hands out MoMo access tokens; momo.Client is one.
type TokenSource interface {
	Token(ctx context.Context, p momo.Product) (string, error)
}

// TokenCheck is ready when a MoMo token for p can be had (the cached one, or a new one).
func TokenCheck(tokens TokenSource, p momo.Product) Check {
	return Check{Name: "momo_token_" + string(p), Run: func(ctx context.Context) error {
		_, err := tokens.Token(ctx, p)
		return err
	}}
}

// readiness answers /readyz from its checks, run at once with a timeout each.
type readiness struct {
	checks []Check
	log    zerolog.Logger

	mu     sync.Mutex
	at     time.Time
	status int
	body   []byte
}

// readyAnswer is the body of /readyz. Checks holds "ok" or a short reason per check.
type readyAnswer struct {
	Status string            `json:"status"`
	Failed []string          `json:"failed,omitempty"`
	Checks map[string]string `json:"checks"`
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, body := rd.answer(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// answer returns the cached answer, or runs the checks when it is older than readyCacheFor.
func (rd *readiness) answer(ctx context.Context) (int, []byte) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.body != nil && time.Since(rd.at) < readyCacheFor {
		return rd.status, rd.body
	}

	ans := readyAnswer{Status: "ready", Checks: make(map[string]string, len(rd.checks))}
	for i, err := range rd.run(ctx) {
		name := rd.checks[i].Name
		if err == nil {
			ans.Checks[name] = "ok"
			continue
		}
		ans.Status = "not ready"
		ans.Failed = append(ans.Failed, name)
		ans.Checks[name] = describe(err)
		rd.log.Warn().Str("check", name).Str("err", err.Error()).Msg("not ready")
	}
	rd.status = http.StatusOK
	if ans.Failed != nil {
		rd.status = http.StatusServiceUnavailable
	}
	rd.body, _ = json.Marshal(ans)
	rd.at = time.Now()
	return rd.status, rd.body
}

// run runs every check at once and returns their errors, in order.
func (rd *readiness) run(ctx context.Context) []error {
	errs := make([]error, len(rd.checks))
	var wg sync.WaitGroup
	for i, c := range rd.checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CheckTimeout)
			defer cancel()
			errs[i] = c.Run(cctx)
		})
	}
	wg.Wait()
	return errs
}

// describe says why a check failed without repeating the error, which could quote more than
// an operator's probe should see.
func describe(err error) string {
	var me *momo.Error
	switch {
	case errors.As(err, &me) && me.Code != "":
		return fmt.Sprintf("MoMo answered HTTP %d (%.64s)", me.StatusCode, me.Code)
	case errors.As(err, &me):
		return fmt.Sprintf("MoMo answered HTTP %d", me.StatusCode)
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, momo.ErrNoSubscriptionKey):
		return "no subscription key configured"
	}
	return "failed; see the worker's log"
}

// healthz answers 200 while the process serves HTTP at all.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}
