// Package schedule runs recurring batches (a monthly salary file, weekly winnings) from a YAML
// file through Asynq's scheduler.
//
// Asynq's scheduler has no leader election: every worker that runs it enqueues each firing. Two
// things make that safe. The task is Unique for a while, so Asynq drops most copies; and the
// run's batch ID comes from a template of the firing time, so a copy that gets through finds its
// batch already enqueued and adds nothing.
package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/template"
	"time"

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

// TypeRun is the task type of a scheduled run; Queue is its queue.
const (
	TypeRun = "payout:scheduled-run"
	Queue   = "scheduled"
)

// Entry is one recurring run.
type Entry struct {
	Name        string `yaml:"name"`         // unique; names the run in logs and tasks
	Cron        string `yaml:"cron"`         // five-field cron spec, e.g. "0 9 25 * *"
	Timezone    string `yaml:"timezone"`     // IANA zone of Cron and of the batch ID. Defaults to UTC.
	File        string `yaml:"file"`         // the beneficiaries CSV, as the worker sees it
	Product     string `yaml:"product"`      // disbursement or remittance
	Batch       string `yaml:"batch"`        // batch ID template, e.g. salary-{{.Year}}-{{.Month}}
	Currency    string `yaml:"currency"`     // default currency, as enqueue -currency
	Country     string `yaml:"country"`      // as enqueue -country
	SkipInvalid bool   `yaml:"skip_invalid"` // as enqueue -skip-invalid
}

type file struct {
	Schedules []Entry `yaml:"schedules"`
}

// Load reads and checks a schedules file; every problem is named with its entry.
func Load(path string) ([]Entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("schedule: %s: %w", path, err)
	}
	var errs []error
	seen := map[string]bool{}
	for i, e := range f.Schedules {
		if seen[e.Name] {
			errs = append(errs, fmt.Errorf("schedule: %s: entry %d: name %q is used twice", path, i+1, e.Name))
		}
		seen[e.Name] = true
		if err := e.validate(); err != nil {
			errs = append(errs, fmt.Errorf("schedule: %s: entry %d (%s): %w", path, i+1, e.Name, err))
		}
	}
	return f.Schedules, errors.Join(errs...)
}

func (e Entry) validate() error {
	var errs []error
	if e.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if _, err := cron.ParseStandard(e.spec()); err != nil {
		errs = append(errs, fmt.Errorf("cron %q: %w", e.Cron, err))
	}
	if _, err := time.LoadLocation(e.Timezone); err != nil {
		errs = append(errs, fmt.Errorf("timezone %q: %w", e.Timezone, err))
	}
	if e.File == "" {
		errs = append(errs, errors.New("file is required"))
	}
	if _, err := momo.ParseProduct(e.Product); err != nil {
		errs = append(errs, err)
	}
	if _, err := e.BatchID(time.Date(2026, 12, 25, 9, 0, 0, 0, time.UTC)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// lastFiring returns the entry's latest firing at or before t, looking back as far as a
// year and a day (a yearly schedule).
func (e Entry) lastFiring(t time.Time) (time.Time, error) {
	sched, err := cron.ParseStandard(e.spec())
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule %q: %w", e.Name, err)
	}
	t = t.Truncate(time.Minute)
	// Look back over growing windows, so that a frequent schedule steps through few firings.
	for _, back := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 32 * 24 * time.Hour,
		367 * 24 * time.Hour} {
		fired := sched.Next(t.Add(-back))
		if fired.After(t) {
			continue
		}
		for next := sched.Next(fired); !next.After(t); next = sched.Next(next) {
			fired = next
		}
		return fired, nil
	}
	return time.Time{}, fmt.Errorf("schedule %q: no firing within a year before %s", e.Name, t)
}

// spec is the cron spec with its time zone, in the form Asynq's cron parser reads.
func (e Entry) spec() string {
	if e.Timezone == "" {
		return e.Cron
	}
	return "CRON_TZ=" + e.Timezone + " " + e.Cron
}

// BatchID renders the batch ID of the run that fires at t. The template sees Year, Month, Day,
// Hour, Minute (zero-padded strings), Week (ISO week, zero-padded) and Date (2006-01-02).
func (e Entry) BatchID(t time.Time) (string, error) {
	tmpl, err := template.New(e.Name).Option("missingkey=error").Parse(e.Batch)
	if err != nil {
		return "", fmt.Errorf("batch template %q: %w", e.Batch, err)
	}
	if loc, err := time.LoadLocation(e.Timezone); err == nil {
		t = t.In(loc)
	}
	_, week := t.ISOWeek()
	var b strings.Builder
	err = tmpl.Execute(&b, map[string]string{
		"Year": t.Format("2006"), "Month": t.Format("01"), "Day": t.Format("02"),
		"Hour": t.Format("15"), "Minute": t.Format("04"), "Week": fmt.Sprintf("%02d", week),
		"Date": t.Format("2006-01-02"),
	})
	if err != nil {
		return "", fmt.Errorf("batch template %q: %w", e.Batch, err)
	}
	if b.Len() == 0 || strings.ContainsAny(b.String(), " {}/") {
		return "", fmt.Errorf("batch template %q gives %q, not a batch ID", e.Batch, b.String())
	}
	return b.String(), nil
}

type payload struct {
	Name string `json:"name"`
}

// Register adds every entry to an Asynq scheduler.
func Register(s *asynq.Scheduler, entries []Entry) error {
	for _, e := range entries {
		body, _ := json.Marshal(payload{Name: e.Name})
		task := asynq.NewTask(TypeRun, body, asynq.Queue(Queue), asynq.MaxRetry(3),
			asynq.Unique(30*time.Second))
		if _, err := s.Register(e.spec(), task); err != nil {
			return fmt.Errorf("schedule: register %s: %w", e.Name, err)
		}
	}
	return nil
}

// Runner enqueues the batch of a scheduled run.
type Runner struct {
	Entries           []Entry
	Intake            *intake.Intake
	TargetEnvironment string
	Balance           intake.BalanceChecker // optional
	Log               zerolog.Logger
	Now               func() time.Time // Defaults to time.Now
	Tasks             tasks.Options    // the settings of the transfer tasks it enqueues
}

// Handle is the handler of TypeRun tasks.
func (r *Runner) Handle(ctx context.Context, t *asynq.Task) error {
	var p payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("schedule: payload: %v: %w", err, asynq.SkipRetry)
	}
	for _, e := range r.Entries {
		if e.Name == p.Name {
			return r.Run(ctx, e)
		}
	}
	// Retried, not dropped: another worker, whose schedules have it, may take the retry.
	return fmt.Errorf("schedule: no entry %q in this worker's schedules", p.Name)
}

// Run enqueues the entry's batch for its latest firing. The batch ID comes from the firing's
// time, not from the time this run happens, so a run retried or recovered later (past a
// minute, a midnight, a month's end) finds the same batch instead of paying the file again.
func (r *Runner) Run(ctx context.Context, e Entry) error {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	fired, err := e.lastFiring(now())
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	id, err := e.BatchID(fired)
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	product, _ := momo.ParseProduct(e.Product)
	res, err := r.Intake.Run(ctx, intake.Request{
		Path: e.File, Product: product, BatchID: id, SkipInvalid: e.SkipInvalid,
		// A recurring file may well hold the same rows every month.
		AllowSameFile: true, AllowRepeatedIDs: true, Balance: r.Balance, Tasks: r.Tasks,
		Options: batch.Options{TargetEnvironment: r.TargetEnvironment,
			DefaultCurrency: strings.ToUpper(e.Currency), Country: strings.ToUpper(e.Country)},
	})
	log := r.Log.With().Str("schedule", e.Name).Str("batch_id", id).Logger()
	switch {
	case errors.Is(err, intake.ErrInvalidRows), errors.Is(err, intake.ErrNothingToPay):
		log.Error().Err(err).Int("rejected", res.Rejected).Msg("scheduled run refused: the file is invalid")
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	case err != nil:
		log.Error().Err(err).Msg("scheduled run failed")
		return err
	case res.AlreadyEnqueued:
		log.Info().Msg("scheduled run already enqueued (by an earlier firing or another worker); nothing added")
	default:
		log.Info().Int("accepted", res.Accepted).Str("total", res.TotalString()).Msg("scheduled run enqueued")
	}
	return nil
}
