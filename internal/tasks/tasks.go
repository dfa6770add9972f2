// Package tasks holds the Asynq task types of the payout worker and their handlers: the
// transfer task that submits a payout to MoMo, the status task that polls it until it is
// terminal, and the sweeper that resumes items the queue lost.
//
// Every handler is idempotent against the ledger: Asynq delivers at least once, may run a task
// twice at the same moment after a timeout, and may lose tasks with a Redis restart.
package tasks

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/momopay/payout/internal/momo"
)

// Task type names.
const (
	TypeDisbursement = "payout:disbursement"
	TypeRemittance   = "payout:remittance"
	TypeStatus       = "payout:status"
)

// Products lists the MoMo products the worker pays through.
var Products = []momo.Product{momo.Disbursement, momo.Remittance}

// Queue returns the queue of a product's transfer tasks.
func Queue(p momo.Product) string { return string(p) }

// PollQueue returns the queue of a product's status tasks.
func PollQueue(p momo.Product) string { return string(p) + "-poll" }

// TransferType returns the task type that pays through product p.
func TransferType(p momo.Product) string {
	if p == momo.Remittance {
		return TypeRemittance
	}
	return TypeDisbursement
}

// Payload is what a task carries: where to find the item in the ledger, nothing else. Phone
// numbers, amounts and secrets stay in the ledger, out of the queue and the monitor.
type Payload struct {
	Batch   string       `json:"batch"`
	Ref     string       `json:"ref"`
	Product momo.Product `json:"product"`
	Seq     int          `json:"seq,omitempty"` // status tasks: the poll's sequence number
}

func decodePayload(t *asynq.Task) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("tasks: decode payload: %v: %w", err, asynq.SkipRetry)
	}
	if p.Batch == "" || p.Ref == "" {
		return p, fmt.Errorf("tasks: payload lacks batch or ref: %w", asynq.SkipRetry)
	}
	return p, nil
}

// PollTaskID names the status task with sequence seq of an item.
func PollTaskID(ref string, seq int) string { return ref + ":poll:" + strconv.Itoa(seq) }

// NewTransferTask returns the task that submits item ref of a batch. Its task ID is the
// reference ID, so the monitor shows the payout's own ID.
func NewTransferTask(p momo.Product, batch, ref string, o Options) *asynq.Task {
	return newTransferTask(p, batch, ref, ref, o)
}

// TakeoverTaskID names the transfer task that takes item ref over from a dead worker; n tells
// takeovers of one item apart.
func TakeoverTaskID(ref, n string) string { return ref + ":takeover:" + n }

func newTransferTask(p momo.Product, batch, ref, id string, o Options) *asynq.Task {
	body, _ := json.Marshal(Payload{Batch: batch, Ref: ref, Product: p})
	return asynq.NewTask(TransferType(p), body,
		asynq.Queue(Queue(p)), asynq.TaskID(id), asynq.MaxRetry(o.TransferMaxRetry),
		asynq.Timeout(o.TaskTimeout), asynq.Retention(max(o.Retention, 0)))
}

// NewPollTask returns status poll seq of item ref, to run after delay.
func NewPollTask(p momo.Product, batch, ref string, seq int, delay time.Duration, o Options) *asynq.Task {
	body, _ := json.Marshal(Payload{Batch: batch, Ref: ref, Product: p, Seq: seq})
	// Finished polls are not retained: an item polls many times, the ledger has the outcome,
	// and retained polls would cost Redis more than the item itself.
	return asynq.NewTask(TypeStatus, body,
		asynq.Queue(PollQueue(p)), asynq.TaskID(PollTaskID(ref, seq)),
		asynq.MaxRetry(o.PollMaxRetry), asynq.Timeout(o.TaskTimeout), asynq.ProcessIn(delay))
}

// Options are the task settings shared by enqueue, the worker and the sweeper.
type Options struct {
	// TransferMaxRetry bounds retries of a transfer task. Defaults to 25. The sweeper resumes an
	// item whose task ran out of retries, so this bounds noise, not correctness.
	TransferMaxRetry int
	// PollMaxRetry bounds retries of one status poll. Defaults to 20.
	PollMaxRetry int
	// TaskTimeout bounds one run of a task. Defaults to 3 minutes, well above a MoMo round trip.
	TaskTimeout time.Duration
	// Retention keeps finished transfer tasks visible in the monitor. Defaults to 1 hour;
	// negative keeps none. Finished status polls are never kept.
	Retention time.Duration
}

// Defaults for Options.
const (
	DefaultTransferMaxRetry = 25
	DefaultPollMaxRetry     = 20
	DefaultTaskTimeout      = 3 * time.Minute
	DefaultRetention        = time.Hour
)

// WithDefaults returns o with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.TransferMaxRetry == 0 {
		o.TransferMaxRetry = DefaultTransferMaxRetry
	}
	if o.PollMaxRetry == 0 {
		o.PollMaxRetry = DefaultPollMaxRetry
	}
	if o.TaskTimeout == 0 {
		o.TaskTimeout = DefaultTaskTimeout
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	return o
}

// MaskMSISDN hides the middle of a phone number for logs: 46733123450 -> 4673****450.
func MaskMSISDN(s string) string {
	if len(s) <= 6 {
		return strings.Repeat("*", len(s))
	}
	keep := 3
	head := min(4, len(s)-keep-2)
	return s[:head] + strings.Repeat("*", len(s)-head-keep) + s[len(s)-keep:]
}
