package tasks

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"

	"github.com/momopay/payout/internal/momo"
)

// RetryDelay is the worker's asynq.RetryDelayFunc. It honours MoMo's Retry-After, retries a
// busy item soon, waits longer on a paused product, and otherwise backs off exponentially from
// one second to a minute, plus up to a quarter more of jitter so that a burst of failures does
// not retry in step.
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var me *momo.Error
	switch {
	case errors.As(err, &me) && me.RetryAfter > 0:
		return me.RetryAfter + jitter(time.Second)
	case errors.Is(err, errBusy):
		return 2*time.Second + jitter(2*time.Second)
	case errors.Is(err, errProductPaused), errors.Is(err, errBatchLoading), errors.Is(err, errNotYet):
		return 30*time.Second + jitter(10*time.Second)
	}
	d := time.Second << min(n, 6)
	return min(d, time.Minute) + jitter(d/4+time.Millisecond)
}

func jitter(max time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(max)))
}

// IsFailure is the worker's asynq IsFailure: waiting for a busy item, a paused product or a
// batch still being enqueued is not a failure, and uses up none of the task's retries.
func IsFailure(err error) bool {
	return !errors.Is(err, errBusy) && !errors.Is(err, errProductPaused) &&
		!errors.Is(err, errBatchLoading) && !errors.Is(err, errNotYet)
}
