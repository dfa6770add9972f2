package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/stack"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/worker"
)

// writeFile writes a sandbox beneficiaries file of n rows.
func (b *bench) writeFile(n int) (string, error) {
	path := filepath.Join(b.dir, fmt.Sprintf("rows-%d.csv", n))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "msisdn,amount,currency,external_id,payer_message")
	for i := range n {
		fmt.Fprintf(w, "2567%08d,%d.%02d,EUR,bench-%07d,December salary\n", i, 1+i%900, i%100, i)
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	return path, f.Close()
}

// best runs fn three times and returns the shortest duration.
func best(fn func() error) (time.Duration, error) {
	var min time.Duration
	for range 3 {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		if d := time.Since(start); min == 0 || d < min {
			min = d
		}
	}
	return min, nil
}

func (b *bench) csvRatio(context.Context) ([]Figure, error) {
	path, err := b.writeFile(b.opts.rows)
	if err != nil {
		return nil, err
	}
	b.logf("csv: parsing %d rows with encoding/csv and with the batch reader", b.opts.rows)
	bare, err := best(func() error { return bareCSV(path, b.opts.rows) })
	if err != nil {
		return nil, fmt.Errorf("bench: baseline csv: %w", err)
	}
	ours, err := best(func() error { return batchCSV(path, b.opts.rows) })
	if err != nil {
		return nil, fmt.Errorf("bench: batch reader: %w", err)
	}
	ratio := bare.Seconds() / ours.Seconds()
	return []Figure{{Name: "csv_ratio", Value: ratio, Unit: "x", Target: ">= 0.4", Met: ratio >= 0.4,
		Baseline: fmt.Sprintf("encoding/csv %.0f rows/s", float64(b.opts.rows)/bare.Seconds()),
		Detail:   fmt.Sprintf("batch reader %.0f rows/s", float64(b.opts.rows)/ours.Seconds())}}, nil
}

func bareCSV(path string, want int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.ReuseRecord = true
	n := -1
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n++
	}
	if n != want {
		return fmt.Errorf("read %d rows, want %d", n, want)
	}
	return nil
}

func batchCSV(path string, want int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := batch.NewReader(f, batch.Options{File: path, TargetEnvironment: "sandbox"})
	if err != nil {
		return err
	}
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n++
	}
	if n != want {
		return fmt.Errorf("accepted %d rows, want %d", n, want)
	}
	return nil
}

func (b *bench) enqueueRatio(ctx context.Context) ([]Figure, error) {
	n := b.opts.rows
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	opt := asynq.RedisClientOpt{Addr: b.addr}
	client := asynq.NewClient(opt)
	defer client.Close()

	payload := make([]byte, 100) // a transfer task's payload is about this size
	_, _ = rand.Read(payload)
	b.logf("enqueue: baseline, a bare loop of %d asynq.Client.Enqueue", n)
	start := time.Now()
	for range n {
		if _, err := client.EnqueueContext(ctx, asynq.NewTask("bench:noop", payload), asynq.Queue("baseline")); err != nil {
			return nil, fmt.Errorf("bench: baseline enqueue: %w", err)
		}
	}
	bare := float64(n) / time.Since(start).Seconds()
	if err := b.flush(ctx); err != nil {
		return nil, err
	}

	path, err := b.writeFile(n)
	if err != nil {
		return nil, err
	}
	b.logf("enqueue: %d rows through intake (validation, ledger, tasks)", n)
	rdb := b.rdb()
	defer rdb.Close()
	start = time.Now()
	res, err := intake.New(ledger.New(rdb), client).Run(ctx, intake.Request{
		Path: path, Product: momo.Disbursement, BatchID: "bench-enqueue",
		Options: batch.Options{TargetEnvironment: "sandbox"},
	})
	if err != nil {
		return nil, fmt.Errorf("bench: intake: %w", err)
	}
	if res.Tasks != n {
		return nil, fmt.Errorf("bench: intake enqueued %d tasks, want %d", res.Tasks, n)
	}
	ours := float64(n) / time.Since(start).Seconds()
	ratio := ours / bare
	return []Figure{{Name: "enqueue_ratio", Value: ratio, Unit: "x", Target: ">= 2.0", Met: ratio >= 2,
		Baseline: fmt.Sprintf("bare Enqueue loop %.0f tasks/s", bare),
		Detail:   fmt.Sprintf("enqueue %.0f rows/s", ours)}}, nil
}

// baselineProcess is the rate of an Asynq server running a no-op handler.
func (b *bench) baselineProcess(ctx context.Context, n int) (float64, error) {
	opt := asynq.RedisClientOpt{Addr: b.addr}
	client := asynq.NewClient(opt)
	defer client.Close()
	for range n {
		if _, err := client.EnqueueContext(ctx, asynq.NewTask("bench:noop", nil), asynq.Queue("baseline")); err != nil {
			return 0, err
		}
	}
	var done atomic.Int64
	finished := make(chan struct{})
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: b.opts.concurrency,
		Queues: map[string]int{"baseline": 1}, LogLevel: asynq.ErrorLevel,
		DelayedTaskCheckInterval: worker.DefaultDelayedTaskCheckInterval})
	mux := asynq.NewServeMux()
	mux.HandleFunc("bench:noop", func(context.Context, *asynq.Task) error {
		if done.Add(1) == int64(n) {
			close(finished)
		}
		return nil
	})
	start := time.Now()
	if err := srv.Start(mux); err != nil {
		return 0, err
	}
	defer srv.Shutdown()
	select {
	case <-finished:
	case <-time.After(5 * time.Minute):
		return 0, errors.New("baseline server did not finish")
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// payoutRun enqueues n payouts, then starts a worker and times it until every one is final.
type payoutRun struct {
	rate        float64
	callsPer    float64
	bytesPer    float64
	st          *stack.Stack
	batchID     string
	pendingTime time.Duration
}

func (b *bench) payouts(ctx context.Context, n int, sim momosim.Config, tc tasks.Config) (*payoutRun, error) {
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	st, err := stack.Start(ctx, stack.Options{RedisAddr: b.addr, Sim: sim, NoWorker: true, Log: zerolog.Nop(),
		Worker: worker.Config{Concurrency: b.opts.concurrency, Products: []momo.Product{momo.Disbursement}, Tasks: tc}})
	if err != nil {
		return nil, err
	}
	mem0, err := usedMemory(ctx, st)
	if err != nil {
		return nil, err
	}
	path, err := b.writeFile(n)
	if err != nil {
		return nil, err
	}
	res, err := intake.New(st.Store, st.Client).Run(ctx, intake.Request{
		Path: path, Product: momo.Disbursement, BatchID: fmt.Sprintf("bench-%d", time.Now().UnixNano()),
		Options: batch.Options{TargetEnvironment: "sandbox"},
	})
	if err != nil {
		return nil, fmt.Errorf("bench: intake: %w", err)
	}
	start := time.Now()
	st.StartWorker(ctx)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := st.WaitDone(wctx, res.BatchID, nil); err != nil {
		return nil, fmt.Errorf("bench: payouts did not finish: %w", err)
	}
	elapsed := time.Since(start)
	c, err := st.Store.Counts(ctx, res.BatchID)
	if err != nil || c.Items[ledger.Successful] != int64(n) {
		return nil, fmt.Errorf("bench: %v successful of %d (%v)", c.Items, n, err)
	}
	mem1, err := usedMemory(ctx, st)
	if err != nil {
		return nil, err
	}
	stats := st.Sim.Stats()
	return &payoutRun{
		rate:     float64(n) / elapsed.Seconds(),
		callsPer: float64(stats.TransfersCreated+stats.StatusQueries+stats.TokensIssued) / float64(n),
		bytesPer: float64(mem1-mem0) / float64(n),
		st:       st, batchID: res.BatchID, pendingTime: sim.PendingFor,
	}, nil
}

func usedMemory(ctx context.Context, st *stack.Stack) (int64, error) {
	info, err := st.RDB.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("bench: no used_memory in INFO")
}

func (b *bench) processRatio(ctx context.Context) ([]Figure, error) {
	n := b.opts.payouts
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	b.logf("process: baseline, %d no-op tasks at concurrency %d", 4*n, b.opts.concurrency)
	bare, err := b.baselineProcess(ctx, 4*n)
	if err != nil {
		return nil, fmt.Errorf("bench: baseline process: %w", err)
	}
	b.logf("process: %d payouts end to end, the simulator answering at once", n)
	run, err := b.payouts(ctx, n, momosim.Config{}, tasks.Config{})
	if err != nil {
		return nil, err
	}
	defer run.st.Close()
	ratio := run.rate / bare
	return []Figure{
		{Name: "process_ratio", Value: ratio, Unit: "x", Target: ">= 0.5", Met: ratio >= 0.5,
			Baseline: fmt.Sprintf("no-op Asynq handler %.0f tasks/s", bare),
			Detail:   fmt.Sprintf("payouts %.0f/s, %.2f MoMo calls each", run.rate, run.callsPer)},
		{Name: "redis_bytes_per_item", Value: run.bytesPer, Unit: "B", Target: "<= 1024",
			Met: run.bytesPer <= 1024, Detail: fmt.Sprintf("after %d finished payouts, retention %s included", n, tasks.DefaultRetention)},
	}, nil
}

func (b *bench) latencyEfficiency(ctx context.Context) ([]Figure, error) {
	n := b.opts.latencyPayouts
	b.logf("latency: %d payouts with the simulator adding 100 ms per call", n)
	run, err := b.payouts(ctx, n, momosim.Config{Latency: 100 * time.Millisecond}, tasks.Config{})
	if err != nil {
		return nil, err
	}
	defer run.st.Close()
	bound := float64(b.opts.concurrency) / (run.callsPer * 0.1)
	eff := run.rate / bound
	return []Figure{{Name: "latency_efficiency", Value: eff, Unit: "x", Target: ">= 0.8", Met: eff >= 0.8,
		Baseline: fmt.Sprintf("bound %.1f payouts/s = %d / (%.2f calls x 100 ms)", bound, b.opts.concurrency, run.callsPer),
		Detail:   fmt.Sprintf("payouts %.1f/s", run.rate)}}, nil
}

func (b *bench) pollLag(ctx context.Context) ([]Figure, error) {
	var figs []Figure
	for _, tc := range []struct {
		name string
		cfg  tasks.Config
		tgt  float64
	}{
		{"poll_lag_p50", tasks.Config{}, 1},
		{"poll_lag_p50_fast", tasks.Config{PollInitial: 250 * time.Millisecond, PollMax: 500 * time.Millisecond}, 0.5},
	} {
		b.logf("poll lag: 200 payouts pending 3 s at MoMo (%s)", tc.name)
		run, err := b.payouts(ctx, 200, momosim.Config{PendingFor: 3 * time.Second}, tc.cfg)
		if err != nil {
			return nil, err
		}
		p50, p90, err := lags(ctx, run)
		run.st.Close()
		if err != nil {
			return nil, err
		}
		cfg := tc.cfg.WithDefaults()
		figs = append(figs, Figure{Name: tc.name, Value: p50.Seconds(), Unit: "s",
			Target: fmt.Sprintf("<= %.1f s", tc.tgt), Met: p50.Seconds() <= tc.tgt,
			Baseline: "simulator pending time 3 s",
			Detail:   fmt.Sprintf("p90 %.2f s; poll initial %s, max %s", p90.Seconds(), cfg.PollInitial, cfg.PollMax)})
	}
	return figs, nil
}

// lags returns the median and 90th percentile of the time from MoMo turning a transfer
// terminal to the ledger recording it.
func lags(ctx context.Context, run *payoutRun) (time.Duration, time.Duration, error) {
	created := map[string]time.Time{}
	for _, t := range run.st.Sim.Transfers() {
		created[t.ReferenceID] = t.CreatedAt
	}
	var ds []time.Duration
	err := run.st.Store.EachItem(ctx, run.batchID, func(it *ledger.Item) error {
		if c, ok := created[it.Ref]; ok {
			ds = append(ds, it.UpdatedAt.Sub(c.Add(run.pendingTime)))
		}
		return nil
	})
	if err != nil || len(ds) == 0 {
		return 0, 0, fmt.Errorf("bench: poll lags: %v (%d items)", err, len(ds))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], ds[len(ds)*9/10], nil
}

func (b *bench) enqueueRSS(ctx context.Context) ([]Figure, error) {
	b.bin = filepath.Join(b.dir, "bin")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", b.bin+"/", "./cmd/enqueue").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("bench: build enqueue (run from the repository root): %v: %s", err, out)
	}
	var rss []float64
	sizes := []int{b.opts.bigRows / 4, b.opts.bigRows}
	for _, n := range sizes {
		if err := b.flush(ctx); err != nil {
			return nil, err
		}
		path, err := b.writeFile(n)
		if err != nil {
			return nil, err
		}
		b.logf("rss: enqueue of %d rows as a process", n)
		cmd := exec.CommandContext(ctx, filepath.Join(b.bin, "enqueue"), "-product", "disbursement",
			"-skip-balance-check", "-batch", fmt.Sprintf("rss-%d", n), path)
		cmd.Env = append(os.Environ(), "REDIS_ADDR="+b.addr, "REDIS_URL=", "MOMO_TARGET_ENVIRONMENT=sandbox")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("bench: enqueue %d rows: %v: %s", n, err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		rss = append(rss, float64(ru.Maxrss)/1024) // kilobytes on Linux
		_ = os.Remove(path)
	}
	big := rss[len(rss)-1]
	return []Figure{{Name: "enqueue_peak_rss_mib", Value: big, Unit: "MiB", Target: "<= 64, flat",
		Met:    big <= 64 && big <= rss[0]*1.5+8,
		Detail: fmt.Sprintf("%d rows: %.1f MiB; %d rows: %.1f MiB", sizes[0], rss[0], sizes[1], big)}}, nil
}
