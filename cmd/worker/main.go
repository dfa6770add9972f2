// Command worker pays the queued payouts through MoMo until SIGINT or SIGTERM, then shuts down
// gracefully, letting in-flight MoMo calls finish.
//
//	worker [-concurrency N] [-require-durable] [-log-format json|console]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/config"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/schedule"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/worker"
)

func main() { cli.Main("worker", run) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	concurrency := fs.Int("concurrency", worker.DefaultConcurrency, "tasks each product runs at once")
	durable := fs.Bool("require-durable", false, "refuse to start when Redis could lose payouts (no AOF, or evicting)")
	logFormat := fs.String("log-format", "json", "log format: json or console")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	sweep := fs.Duration("sweep-interval", worker.DefaultSweepInterval, "how often to look for stranded payouts")
	schedules := fs.String("schedules", os.Getenv("PAYOUT_SCHEDULES"), "YAML file of recurring runs (configs/schedules.yaml); $PAYOUT_SCHEDULES")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: worker [flags]   (settings come from the environment; see README)")
		fs.PrintDefaults()
	}
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return cli.Usagef("worker takes no arguments (got %q); its settings come from the environment", fs.Args())
	}
	if *concurrency <= 0 {
		return cli.Usagef("-concurrency must be positive")
	}
	log, err := cli.Logger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	products := cfg.ConfiguredProducts()
	if len(products) == 0 {
		return errors.New("config: set MOMO_DISBURSEMENT_KEY and/or MOMO_REMITTANCE_KEY: the worker pays through the products that have a key")
	}
	if err := cfg.RequireMoMo(products...); err != nil {
		return err
	}
	client, err := momo.New(cfg.MoMo)
	if err != nil {
		return err
	}
	var entries []schedule.Entry
	if *schedules != "" {
		if entries, err = schedule.Load(*schedules); err != nil {
			return err
		}
	}
	opt, rdb, err := cfg.Redis()
	if err != nil {
		return err
	}
	defer rdb.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("worker: cannot reach Redis: %w", err)
	}
	problems, err := worker.CheckDurability(ctx, rdb)
	if err != nil {
		// Managed Redis services often disable CONFIG; say so rather than guess.
		problems = []string{fmt.Sprintf("could not read its settings (%v); make sure it keeps an AOF and never evicts", err)}
	}
	if len(problems) > 0 {
		if *durable {
			return fmt.Errorf("%w: %s", worker.ErrNotDurable, strings.Join(problems, "; "))
		}
		for _, p := range problems {
			log.Warn().Msg("Redis durability: " + p)
		}
	}
	return worker.Run(ctx, worker.Config{
		Redis: opt, Store: ledger.New(rdb), MoMo: client, Products: products,
		Concurrency: *concurrency, SweepInterval: *sweep, Log: log,
		Schedules: entries, TargetEnvironment: cfg.MoMo.TargetEnvironment, Balance: client,
		Tasks: tasks.Config{PollInitial: cfg.PollInitial, PollMax: cfg.PollMax,
			PollWindow: cfg.PollWindow, CallTimeout: callTimeout(),
			Sandbox: cfg.MoMo.TargetEnvironment == "sandbox"},
	})
}

// callTimeout leaves room for a token fetch, a status query and a POST of one attempt.
func callTimeout() time.Duration { return 3*momo.DefaultHTTPTimeout + 10*time.Second }
