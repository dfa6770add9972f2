package schedule_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/schedule"
	"github.com/momopay/payout/internal/stack"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/testutil"
	"github.com/momopay/payout/internal/worker"
)

// redisDB is this package's database on the test Redis.
const redisDB = 7

func TestLoad_ShippedExampleIsValid(t *testing.T) {
	entries, err := schedule.Load("../../configs/schedules.yaml")
	require.NoError(t, err)
	require.Len(t, entries, 2)
	id, err := entries[0].BatchID(time.Date(2026, 12, 24, 23, 30, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, "salary-2026-12", id)
	id, err = entries[1].BatchID(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, "winnings-2026-w53", id)
}

func TestBatchID_UsesTheEntrysTimeZone(t *testing.T) {
	e := schedule.Entry{Name: "x", Batch: "run-{{.Date}}-{{.Hour}}", Timezone: "Africa/Kampala"}
	id, err := e.BatchID(time.Date(2026, 12, 31, 22, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, "run-2027-01-01-01", id, "22:00 UTC is 01:00 the next day in Kampala")
}

func TestLoad_NamesEveryBadEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`schedules:
  - name: a
    cron: "61 * * * *"
    file: x.csv
    product: collection
    batch: "b-{{.Nope}}"
  - name: a
    cron: "0 9 * * *"
    file: x.csv
    product: disbursement
    batch: "b-{{.Year}}"
`), 0o600))
	_, err := schedule.Load(path)
	require.Error(t, err)
	for _, want := range []string{"entry 1 (a)", "cron", "collection", "Nope", `name "a" is used twice`} {
		assert.Contains(t, err.Error(), want)
	}

	require.NoError(t, os.WriteFile(path, []byte("schedules:\n  - name: a\n    crn: x\n"), 0o600))
	_, err = schedule.Load(path)
	assert.ErrorContains(t, err, "crn", "a misspelt field is not ignored")
}

func writeFile(t *testing.T, rows int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "salaries.csv")
	body := "msisdn,amount\n"
	for i := range rows {
		body += fmt.Sprintf("4673312%04d,%d\n", 4000+i, 10+i)
	}
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

// TestRunner_TwoRunsOfOneFiringMakeOneBatch runs the same firing on two "workers" at once: one
// batch, each row once.
func TestRunner_TwoRunsOfOneFiringMakeOneBatch(t *testing.T) {
	rdb := testutil.Redis(t, redisDB)
	store := ledger.New(rdb)
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: testutil.RedisAddr(), DB: redisDB})
	defer client.Close()
	entry := schedule.Entry{Name: "salaries", Cron: "0 9 25 * *", File: writeFile(t, 30),
		Product: "disbursement", Batch: "salary-{{.Year}}-{{.Month}}", Currency: "EUR"}
	fixed := func() time.Time { return time.Date(2026, 12, 25, 9, 0, 7, 0, time.UTC) }

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &schedule.Runner{Entries: []schedule.Entry{entry}, Intake: intake.New(store, client),
				TargetEnvironment: "sandbox", Log: zerolog.Nop(), Now: fixed}
			errs[i] = r.Run(context.Background(), entry)
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	ids, err := store.Batches(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"salary-2026-12"}, ids)
	c, err := store.Counts(context.Background(), "salary-2026-12")
	require.NoError(t, err)
	assert.Equal(t, int64(30), c.Total())
}

// TestScheduler_TwoWorkersFireOneRunPaidOnce starts two workers that both run the scheduler with
// an every-second schedule, and checks that the run's batch is enqueued once and paid once.
func TestScheduler_TwoWorkersFireOneRunPaidOnce(t *testing.T) {
	testutil.Redis(t, redisDB)
	entry := schedule.Entry{Name: "often", Cron: "@every 1s", File: writeFile(t, 5),
		Product: "disbursement", Batch: "often-{{.Date}}", Currency: "EUR"}
	st, err := stack.Start(context.Background(), stack.Options{
		RedisAddr: testutil.RedisAddr(), RedisDB: redisDB, NoWorker: true, Log: zerolog.Nop(),
	})
	require.NoError(t, err)
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = worker.Run(ctx, worker.Config{
				Redis: st.Redis, Store: st.Store, MoMo: st.MoMo, Log: zerolog.Nop(),
				Schedules: []schedule.Entry{entry}, TargetEnvironment: "sandbox",
				Tasks: tasks.Config{PollInitial: 100 * time.Millisecond, PollMax: 200 * time.Millisecond},
			})
		}()
	}
	defer func() { cancel(); wg.Wait() }()

	id, err := entry.BatchID(time.Now())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		c, err := st.Store.Counts(context.Background(), id)
		return err == nil && c.Total() == 5 && c.Open() == 0
	}, 30*time.Second, 100*time.Millisecond, "the scheduled run fires and is paid")
	time.Sleep(2500 * time.Millisecond) // more firings come and add nothing
	c, err := st.Store.Counts(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, int64(5), c.Items[ledger.Successful])
	assert.Len(t, st.Sim.Transfers(), 5)
	assert.Zero(t, st.Sim.Stats().PaidTwice)
}

// TestRunner_RetryAfterTheFiringsPeriodFindsTheSameBatch: a daily run fired at 09:00 and
// failed after its batch was written; Asynq retries it after midnight. The retry must find
// that day's batch, not open a new day's batch that pays the whole file again.
func TestRunner_RetryAfterTheFiringsPeriodFindsTheSameBatch(t *testing.T) {
	rdb := testutil.Redis(t, redisDB)
	store := ledger.New(rdb)
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: testutil.RedisAddr(), DB: redisDB})
	defer client.Close()
	entry := schedule.Entry{Name: "wins", Cron: "0 9 * * *", File: writeFile(t, 5),
		Product: "disbursement", Batch: "wins-{{.Date}}", Currency: "EUR"}
	run := func(at time.Time) {
		t.Helper()
		r := &schedule.Runner{Entries: []schedule.Entry{entry}, Intake: intake.New(store, client),
			TargetEnvironment: "sandbox", Log: zerolog.Nop(), Now: func() time.Time { return at }}
		require.NoError(t, r.Run(context.Background(), entry))
	}

	run(time.Date(2026, 12, 3, 9, 0, 2, 0, time.UTC))
	run(time.Date(2026, 12, 4, 0, 30, 0, 0, time.UTC)) // the retry, past midnight
	ids, err := store.Batches(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"wins-2026-12-03"}, ids)

	run(time.Date(2026, 12, 4, 9, 0, 1, 0, time.UTC)) // the next day's own firing
	ids, err = store.Batches(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"wins-2026-12-03", "wins-2026-12-04"}, ids)
}
