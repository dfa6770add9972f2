package ledger

import (
	"strconv"
	"time"
)

// State is where a payout item stands.
type State string

// The item states. VALIDATED items have never been sent to MoMo; SUBMITTING items may have been
// (an attempt started a POST and its outcome is not yet known); SUBMITTED items exist at MoMo.
const (
	Validated  State = "VALIDATED"
	Submitting State = "SUBMITTING"
	Submitted  State = "SUBMITTED"
	Successful State = "SUCCESSFUL"
	Failed     State = "FAILED"
	Cancelled  State = "CANCELLED"
	Unknown    State = "UNKNOWN"
)

// States lists every state in the order reports show them.
var States = []State{Validated, Submitting, Submitted, Successful, Failed, Cancelled, Unknown}

// Terminal reports whether no worker will touch an item in this state again on its own.
func (s State) Terminal() bool {
	switch s {
	case Successful, Failed, Cancelled, Unknown, Retried:
		return true
	}
	return false
}

// Batch statuses.
const (
	// BatchLoading means enqueue is still writing items; nothing of the batch may be paid.
	BatchLoading = "loading"
	// BatchReady means every item is written and the batch is being paid.
	BatchReady = "ready"
	// BatchPaused means items not yet submitted wait for an operator's resume.
	BatchPaused = "paused"
	// BatchCancelled means items not yet submitted are cancelled; submitted ones finish.
	BatchCancelled = "cancelled"
	// BatchDiscarding means a batch that never opened is being deleted; like a loading one,
	// nothing of it may be paid, and a deletion that stopped half-way is finished by the next
	// enqueue of it.
	BatchDiscarding = "discarding"
)

// Unopened reports whether a batch status is one in which nothing may be paid yet or ever:
// loading or discarding.
func Unopened(status string) bool { return status == BatchLoading || status == BatchDiscarding }

// Item is one payout: one accepted row of a batch file.
type Item struct {
	Batch       string
	Ref         string // the X-Reference-Id, minted once at enqueue
	Line        int
	PartyIDType string
	PartyID     string
	Amount      string // canonical decimal string
	Minor       int64  // Amount in minor units
	Currency    string
	ExternalID  string
	PayerMsg    string
	PayeeNote   string
	Name        string

	State       State
	Attempts    int
	FinTxID     string
	Reason      string
	LastError   string
	PollSeq     int
	PrevRef     string // the attempt this one retries, if any
	TaskID      string // the transfer task that took the item over from a dead worker, if any
	CreatedAt   time.Time
	UpdatedAt   time.Time
	SubmittedAt time.Time // when MoMo first acknowledged the transfer; zero before
}

// Hash field names of an item. Short, because a large batch holds many items.
const (
	fRef, fLine, fPartyType, fParty, fAmount, fMinor = "ref", "line", "pt", "pid", "amt", "min"
	fCur, fExt, fPayerMsg, fPayeeNote, fName         = "cur", "ext", "pm", "pn", "name"
	fState, fAttempts, fFinTx, fReason, fErr         = "st", "att", "ftid", "rsn", "err"
	fCreated, fUpdated, fSubmitted, fPoll, fPrev     = "cat", "uat", "sat", "poll", "prev"
	fTask                                            = "task"
)

func itemFromHash(batch string, h map[string]string) *Item {
	return &Item{
		Batch:       batch,
		Ref:         h[fRef],
		Line:        atoi(h[fLine]),
		PartyIDType: h[fPartyType],
		PartyID:     h[fParty],
		Amount:      h[fAmount],
		Minor:       atoi64(h[fMinor]),
		Currency:    h[fCur],
		ExternalID:  h[fExt],
		PayerMsg:    h[fPayerMsg],
		PayeeNote:   h[fPayeeNote],
		Name:        h[fName],
		State:       State(h[fState]),
		Attempts:    atoi(h[fAttempts]),
		FinTxID:     h[fFinTx],
		Reason:      h[fReason],
		LastError:   h[fErr],
		PollSeq:     atoi(h[fPoll]),
		PrevRef:     h[fPrev],
		TaskID:      h[fTask],
		CreatedAt:   msTime(h[fCreated]),
		UpdatedAt:   msTime(h[fUpdated]),
		SubmittedAt: msTime(h[fSubmitted]),
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func msTime(s string) time.Time {
	ms := atoi64(s)
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
