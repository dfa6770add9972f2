package tasks

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
)

// Settings of the polls callbacks trigger.
const (
	// callbackPollMaxRetry bounds retries of a poll a callback triggered: it is only a hint
	// to ask MoMo sooner, and the item's scheduled polls ask anyway.
	callbackPollMaxRetry = 3
	// CallbackPollRetention keeps a finished callback poll, so that replays of its callback
	// within that time find it and add nothing. Unlike scheduled polls, which are not kept,
	// there is about one per payout.
	CallbackPollRetention = 10 * time.Minute
)

// CallbackTaskID names the status poll that a callback triggers for poll sequence seq of
// item ref.
func CallbackTaskID(ref string, seq int) string { return ref + ":cb:" + strconv.Itoa(seq) }

// NewCallbackPollTask returns the status poll a MoMo callback triggers for item ref of a
// batch: poll seq (the item's current PollSeq), to run at once. Its task ID differs from the
// scheduled poll of the same sequence, so it does not wait for that one; a replayed callback
// finds it (asynq.ErrTaskIDConflict) while it is kept, up to CallbackPollRetention after it
// ran, and adds nothing. The status handler lets it ask MoMo because seq is not behind the
// item's; should MoMo still say PENDING, it schedules poll seq+1, which retires the older
// chain.
func NewCallbackPollTask(p momo.Product, batch, ref string, seq int, o Options) *asynq.Task {
	body, _ := json.Marshal(Payload{Batch: batch, Ref: ref, Product: p, Seq: seq})
	return asynq.NewTask(TypeStatus, body,
		asynq.Queue(PollQueue(p)), asynq.TaskID(CallbackTaskID(ref, seq)),
		asynq.MaxRetry(callbackPollMaxRetry), asynq.Timeout(o.TaskTimeout),
		asynq.Retention(CallbackPollRetention))
}

// CallbackURL returns the X-Callback-Url of item ref of batch: base, then "/" batch "/" ref,
// each path-escaped. base is MOMO_CALLBACK_URL, the public URL of the worker's /callback.
func CallbackURL(base, batch, ref string) string {
	return strings.TrimRight(base, "/") + "/" + url.PathEscape(batch) + "/" + url.PathEscape(ref)
}

// callbackBaser is a MoMo client that knows the base of the callback URLs; momo.Client does,
// from its Config.CallbackURL.
type callbackBaser interface {
	CallbackURL() string
}

// callbackURL returns the callback URL of an item, or "" when MoMo is not to call back.
func (p *Processor) callbackURL(it *ledger.Item) string {
	cb, ok := p.momo.(callbackBaser)
	if !ok || cb.CallbackURL() == "" {
		return ""
	}
	return CallbackURL(cb.CallbackURL(), it.Batch, it.Ref)
}
