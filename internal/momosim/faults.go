package momosim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Fault kinds accepted by InjectNext and POST /_sim/inject.
const (
	// FaultPostFailBefore answers a transfer POST 500 INTERNAL_PROCESSING_ERROR or
	// 503 SERVICE_UNAVAILABLE (alternately) without creating the transfer.
	FaultPostFailBefore = "post-fail-before"
	// FaultPostDropAfter creates the transfer, then closes the connection without answering.
	FaultPostDropAfter = "post-drop-after"
	// FaultPost500After creates the transfer, then answers 500 INTERNAL_PROCESSING_ERROR.
	FaultPost500After = "post-500-after"
	// FaultStatusFail answers a transfer GET 500 or 503 (alternately) without its status.
	FaultStatusFail = "status-fail"
	// FaultTooManyRequests answers any product call 429 with Retry-After: 1, doing nothing.
	FaultTooManyRequests = "429"
	// FaultToken401 refuses the bearer token of a product call (transfer POST or GET,
	// balance, account holder) with 401 and revokes it, as if it had expired early: the
	// client must fetch a new token.
	FaultToken401 = "token-401"
	// FaultTokenLoginFailed answers a token request 500 {"error":"login_failed"}.
	FaultTokenLoginFailed = "token-login-failed"
	// FaultPost404VisibleLate creates the transfer and answers 202, but its next n GETs
	// answer 404 RESOURCE_NOT_FOUND, as if it were not visible yet. For this kind n counts
	// GETs of one transfer: it affects the next transfer POST only.
	FaultPost404VisibleLate = "post-404-visible-late"
)

// faultKinds lists every kind InjectNext accepts.
var faultKinds = []string{
	FaultPostFailBefore, FaultPostDropAfter, FaultPost500After, FaultStatusFail,
	FaultTooManyRequests, FaultToken401, FaultTokenLoginFailed, FaultPost404VisibleLate,
}

// ValidFaultKind reports whether kind is one of the Fault* kinds.
func ValidFaultKind(kind string) bool {
	for _, k := range faultKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Faults are probabilities in [0,1] applied independently per request. The 429 and slow
// faults strike before any check; the others strike only requests that passed the
// subscription key, token, target environment and (for POSTs) body checks, so that a
// refused request never consumes an injection. In JSON the fields are camelCase and
// SlowFor is a duration string ("250ms") or a number of nanoseconds.
type Faults struct {
	// PostFailBefore answers a transfer POST 500 or 503 without creating the transfer.
	PostFailBefore float64 `json:"postFailBefore"`
	// PostDropAfter creates the transfer, then drops the connection without answering.
	PostDropAfter float64 `json:"postDropAfter"`
	// Post500After creates the transfer, then answers 500 INTERNAL_PROCESSING_ERROR.
	Post500After float64 `json:"post500After"`
	// StatusFail answers a transfer GET 500 or 503 without information.
	StatusFail float64 `json:"statusFail"`
	// TooManyRequests answers any product call (token, transfer, balance, account holder)
	// 429 with Retry-After: 1, without effect.
	TooManyRequests float64 `json:"tooManyRequests"`
	// SlowFor, when positive, is how long SlowRate of the requests sleep before answering.
	SlowFor time.Duration `json:"slowFor"`
	// SlowRate is the share of requests slowed by SlowFor.
	SlowRate float64 `json:"slowRate"`
}

// Validate reports the first probability outside [0,1] or a negative SlowFor.
func (f Faults) Validate() error {
	probabilities := []struct {
		name string
		p    float64
	}{
		{"postFailBefore", f.PostFailBefore}, {"postDropAfter", f.PostDropAfter},
		{"post500After", f.Post500After}, {"statusFail", f.StatusFail},
		{"tooManyRequests", f.TooManyRequests}, {"slowRate", f.SlowRate},
	}
	for _, p := range probabilities {
		if !(p.p >= 0 && p.p <= 1) {
			return fmt.Errorf("momosim: faults: %s must be in [0,1], got %v", p.name, p.p)
		}
	}
	if f.SlowFor < 0 {
		return fmt.Errorf("momosim: faults: slowFor must not be negative, got %v", f.SlowFor)
	}
	return nil
}

// clamped returns f with every probability forced into [0,1] and SlowFor not negative.
func (f Faults) clamped() Faults {
	for _, p := range []*float64{
		&f.PostFailBefore, &f.PostDropAfter, &f.Post500After,
		&f.StatusFail, &f.TooManyRequests, &f.SlowRate,
	} {
		if !(*p >= 0) { // also catches NaN
			*p = 0
		}
		*p = min(*p, 1)
	}
	f.SlowFor = max(f.SlowFor, 0)
	return f
}

// faultsAlias has Faults' fields without its JSON methods.
type faultsAlias Faults

// faultsJSON shadows SlowFor with a duration that reads and writes "250ms".
type faultsJSON struct {
	faultsAlias
	SlowFor jsonDuration `json:"slowFor"`
}

// MarshalJSON writes SlowFor as a duration string.
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{faultsAlias: faultsAlias(f), SlowFor: jsonDuration(f.SlowFor)})
}

// UnmarshalJSON reads SlowFor as a duration string or a number of nanoseconds.
func (f *Faults) UnmarshalJSON(b []byte) error {
	aux := faultsJSON{faultsAlias: faultsAlias(*f), SlowFor: jsonDuration(f.SlowFor)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*f = Faults(aux.faultsAlias)
	f.SlowFor = time.Duration(aux.SlowFor)
	return nil
}

// jsonDuration is a time.Duration written as "250ms" in JSON.
type jsonDuration time.Duration

// MarshalJSON writes the duration as a string.
func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON accepts "250ms" or a number of nanoseconds.
func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var ns int64
		if err := json.Unmarshal(b, &ns); err != nil {
			return fmt.Errorf("duration must be a string like \"250ms\" or nanoseconds")
		}
		*d = jsonDuration(ns)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = jsonDuration(v)
	return nil
}

// faultState decides which faults hit. It is guarded by Server.mu.
type faultState struct {
	probs Faults
	rng   *rand.Rand
	next  map[string]int // deterministic injections still to deliver, by kind
	flip  bool           // alternates 500 and 503 answers
	count int            // faults delivered so far
}

// newFaultState seeds the randomness from seed.
func newFaultState(f Faults, seed int64) faultState {
	return faultState{
		probs: f,
		rng:   rand.New(rand.NewPCG(uint64(seed), uint64(seed)>>1^0x9e3779b97f4a7c15)),
		next:  make(map[string]int),
	}
}

// hit reports whether the fault kind strikes this request: a pending injection of kind is
// consumed first, otherwise the fault strikes with probability p. Hits are counted.
func (fs *faultState) hit(kind string, p float64) bool {
	if fs.next[kind] > 0 {
		fs.next[kind]--
		fs.count++
		return true
	}
	if p > 0 && fs.rng.Float64() < p {
		fs.count++
		return true
	}
	return false
}

// take consumes one pending injection of kind, without any probability.
func (fs *faultState) take(kind string) bool {
	return fs.hit(kind, 0)
}

// slow reports how long this request must sleep for the slow fault, counting the hit.
func (fs *faultState) slow() time.Duration {
	if fs.probs.SlowFor <= 0 || !fs.hit("slow", fs.probs.SlowRate) {
		return 0
	}
	return fs.probs.SlowFor
}

// alternate returns true and false in turn; it picks 500 or 503.
func (fs *faultState) alternate() bool {
	fs.flip = !fs.flip
	return fs.flip
}
