// Command chaos proves exactly-once payouts under faults. It starts its own Redis (AOF, on a
// spare port) and the MoMo simulator with faults switched on and short-lived tokens, enqueues a
// batch, runs three worker processes, SIGKILLs a random one every few seconds and restarts it,
// restarts Redis once, and when the batch is done (or the deadline passed) checks the ledger
// against the simulator's own record. It exits non-zero on any violation.
//
//	chaos [-rows 1000] [-workers 3] [-deadline 4m30s] [-kill-every 3s]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/redisproc"
)

func main() { cli.Main("chaos", run) }

type options struct {
	rows, workers int
	deadline      time.Duration
	killEvery     time.Duration
	keep          bool
	latency       time.Duration
	concurrency   int
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	var o options
	fs.IntVar(&o.rows, "rows", 1000, "rows in the batch")
	fs.IntVar(&o.workers, "workers", 3, "worker processes")
	fs.DurationVar(&o.deadline, "deadline", 4*time.Minute+30*time.Second, "give up after this long")
	fs.DurationVar(&o.killEvery, "kill-every", 3*time.Second, "SIGKILL a random worker this often")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (logs, Redis data)")
	fs.DurationVar(&o.latency, "latency", 150*time.Millisecond, "simulator latency per MoMo call")
	fs.IntVar(&o.concurrency, "concurrency", 4, "tasks per product per worker")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	redis.SetLogger(quietLogger{}) // the Redis restart is on purpose
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := os.MkdirTemp("", "payout-chaos-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	h := &harness{opts: o, dir: dir, out: stdout, start: time.Now()}
	defer h.stopAll()
	return h.run(ctx)
}

type harness struct {
	opts    options
	dir     string
	out     io.Writer
	start   time.Time
	bin     string
	redis   *redisproc.Server
	sim     *momosim.Server
	simURL  string
	workers []*exec.Cmd
	batch   string
	kills   int
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.out, "[%6.1fs] %s\n", time.Since(h.start).Seconds(), fmt.Sprintf(format, args...))
}

func (h *harness) run(ctx context.Context) error {
	if err := h.build(ctx); err != nil {
		return err
	}
	if err := h.startRedis(); err != nil {
		return err
	}
	if err := h.startSim(); err != nil {
		return err
	}
	file, err := h.writeFile()
	if err != nil {
		return err
	}
	if err := h.enqueue(ctx, file); err != nil {
		return err
	}
	for i := range h.opts.workers {
		if err := h.startWorker(i); err != nil {
			return err
		}
	}
	done := h.chaos(ctx)
	h.sim.SetFaults(momosim.Faults{}) // the checks below read the truth, not faults
	return h.check(ctx, done)
}

// build compiles the commands the run starts as separate processes.
func (h *harness) build(ctx context.Context) error {
	h.bin = filepath.Join(h.dir, "bin")
	h.logf("building worker, enqueue and payoutctl")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", h.bin+"/", "./cmd/worker", "./cmd/enqueue", "./cmd/payoutctl")
	cmd.Stdout, cmd.Stderr = h.out, h.out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("chaos: build (run from the repository root): %w", err)
	}
	return nil
}

func (h *harness) redisAddr() string { return h.redis.Addr }

// startRedis starts a Redis that keeps an AOF.
func (h *harness) startRedis() error {
	var err error
	h.redis, err = redisproc.Start(filepath.Join(h.dir, "redis"), "--appendonly", "yes",
		"--appendfsync", "everysec", "--save", "", "--maxmemory-policy", "noeviction")
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	h.logf("redis up on %s (AOF)", h.redisAddr())
	return nil
}

func (h *harness) restartRedis() error {
	h.logf("redis stopping; restarting on the same AOF")
	if err := h.redis.Restart(); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	h.logf("redis up again on %s", h.redisAddr())
	return nil
}

func (h *harness) startSim() error {
	h.sim = momosim.New(momosim.Config{
		// Latency keeps the batch running long enough for the chaos to land in the middle of it.
		PendingFor: 2 * time.Second, TokenTTL: 4 * time.Second, Latency: h.opts.latency,
		Seed: time.Now().UnixNano(),
		Faults: momosim.Faults{
			PostFailBefore: 0.05, PostDropAfter: 0.03, Post500After: 0.02,
			StatusFail: 0.05, TooManyRequests: 0.02,
		},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, h.sim) }()
	h.simURL = "http://" + ln.Addr().String()
	h.logf("simulator on %s: 5%% POSTs fail before, 3%% drop after, 2%% 500 after creating; 5%% status errors; 2%% 429; tokens live 4s", h.simURL)
	return nil
}

func (h *harness) writeFile() (string, error) {
	path := filepath.Join(h.dir, "chaos.csv")
	var b strings.Builder
	b.WriteString("msisdn,amount,currency,external_id\n")
	for i := range h.opts.rows {
		fmt.Fprintf(&b, "2567%08d,%d.%02d,EUR,chaos-%05d\n", 10000000+i, 1+i%500, i%100, i)
	}
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

func (h *harness) env() []string {
	return append(os.Environ(),
		"REDIS_ADDR="+h.redisAddr(), "REDIS_URL=",
		"MOMO_BASE_URL="+h.simURL, "MOMO_TARGET_ENVIRONMENT=sandbox",
		"MOMO_API_USER="+momosim.DefaultAPIUser, "MOMO_API_KEY="+momosim.DefaultAPIKey,
		"MOMO_DISBURSEMENT_KEY="+momosim.DefaultDisbursementKey,
		"MOMO_REMITTANCE_KEY="+momosim.DefaultRemittanceKey,
		"PAYOUT_POLL_INITIAL=500ms", "PAYOUT_POLL_MAX=2s", "PAYOUT_POLL_WINDOW=30m",
		// The simulator is no MTN: lift the production status-query cap so the run stays short.
		"PAYOUT_STATUS_RATE=300")
}

func (h *harness) enqueue(ctx context.Context, file string) error {
	h.batch = "chaos-run"
	cmd := exec.CommandContext(ctx, filepath.Join(h.bin, "enqueue"), "-product", "disbursement",
		"-batch", h.batch, file)
	cmd.Env = h.env()
	out, err := cmd.CombinedOutput()
	h.logf("enqueue: %s", strings.TrimSpace(string(out)))
	if err != nil {
		return fmt.Errorf("chaos: enqueue: %w", err)
	}
	return nil
}

func (h *harness) startWorker(i int) error {
	logf, err := os.OpenFile(filepath.Join(h.dir, fmt.Sprintf("worker-%d.log", i)),
		os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(h.bin, "worker"), "-sweep-interval", "3s",
		"-concurrency", fmt.Sprint(h.opts.concurrency))
	cmd.Env = h.env()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("chaos: start worker: %w", err)
	}
	go func() { _ = cmd.Wait(); _ = logf.Close() }()
	if i < len(h.workers) {
		h.workers[i] = cmd
	} else {
		h.workers = append(h.workers, cmd)
	}
	return nil
}

func (h *harness) stopAll() {
	for _, w := range h.workers {
		if w != nil && w.Process != nil {
			_ = w.Process.Kill()
		}
	}
	if h.redis != nil {
		h.redis.Stop()
	}
}

// chaos kills workers and restarts Redis until the batch is done or the deadline passes. It
// returns whether the batch finished.
func (h *harness) chaos(ctx context.Context) bool {
	deadline := time.After(h.opts.deadline)
	kill := time.NewTicker(h.opts.killEvery)
	defer kill.Stop()
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	redisRestart := time.After(h.opts.killEvery*3 + time.Second)
	rdb := redis.NewClient(&redis.Options{Addr: h.redisAddr()})
	defer rdb.Close()
	store := ledger.New(rdb)
	last := ""
	for {
		select {
		case <-ctx.Done():
			return false
		case <-deadline:
			h.logf("deadline passed")
			return false
		case <-redisRestart:
			if err := h.restartRedis(); err != nil {
				h.logf("redis restart failed: %v", err)
				return false
			}
		case <-kill.C:
			i := rand.IntN(len(h.workers))
			_ = h.workers[i].Process.Kill()
			h.kills++
			if err := h.startWorker(i); err != nil {
				h.logf("restart worker: %v", err)
			}
		case <-poll.C:
			c, err := store.Counts(ctx, h.batch)
			if err != nil {
				continue
			}
			line := c.String()
			if line != last {
				h.logf("%s (workers killed: %d)", line, h.kills)
				last = line
			}
			if c.Total() > 0 && c.Open() == 0 {
				return true
			}
		}
	}
}

// quietLogger drops go-redis's own messages about the connection lost while Redis restarts.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
