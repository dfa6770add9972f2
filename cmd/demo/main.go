// Command demo runs a whole payout batch in one process, with nothing to set up: an embedded
// Redis, the MoMo simulator on loopback, the worker, and the shipped example file. It shows
// progress, prints the batch report and checks every row against the sandbox test-number table.
//
//	demo [-file examples/beneficiaries.csv] [-redis ADDR]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/report"
	"github.com/momopay/payout/internal/stack"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/worker"
)

func main() { cli.Main("demo", run) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	file := fs.String("file", "examples/beneficiaries.csv", "beneficiaries file to pay")
	redisAddr := fs.String("redis", "", "use this Redis instead of an embedded one")
	verbose := fs.Bool("v", false, "show the worker's log")
	serve := fs.Bool("serve", false, "after the batch, keep the monitor and /metrics up until Ctrl-C")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	addr := *redisAddr
	if addr == "" {
		mr, err := startMiniredis(ctx)
		if err != nil {
			return err
		}
		defer mr.Close()
		addr = mr.Addr()
		fmt.Fprintf(stdout, "embedded Redis at %s\n", addr)
	}
	log := zerolog.Nop()
	if *verbose {
		log = zerolog.New(zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly}).With().Timestamp().Logger()
	}
	st, err := stack.Start(ctx, stack.Options{
		RedisAddr: addr, Log: log, HTTP: &stack.HTTPOptions{Callbacks: true},
		Sim: momosim.Config{PendingFor: time.Second, OngoingFor: 3 * time.Second, DelayedFor: 6 * time.Second},
		Worker: worker.Config{
			Concurrency: 10, SweepInterval: 2 * time.Second,
			Tasks: tasks.Config{PollInitial: 500 * time.Millisecond, PollMax: 2 * time.Second,
				Slack: 20 * time.Second, Sandbox: true},
		},
	})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "MoMo simulator at %s (sandbox, EUR)\n", st.SimURL)
	fmt.Fprintf(stdout, "Asynq monitor at %s/monitor/, metrics at %s/metrics\n", st.MonitorURL, st.MonitorURL)
	if err := demo(ctx, st, *file, stdout); err != nil {
		return err
	}
	if err := printMetrics(ctx, st.MonitorURL+"/metrics", stdout); err != nil {
		return err
	}
	if *serve {
		fmt.Fprintf(stdout, "\nserving the monitor at %s/monitor/ until Ctrl-C\n", st.MonitorURL)
		<-ctx.Done()
	}
	return nil
}

// printMetrics shows the payout counters as Prometheus scrapes them from the worker.
func printMetrics(ctx context.Context, url string, stdout io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("demo: scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	fmt.Fprintf(stdout, "\n$ curl %s | grep payout_items_total\n", url)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "payout_items_total{") {
			fmt.Fprintln(stdout, sc.Text())
		}
	}
	return sc.Err()
}

// startMiniredis starts the embedded Redis. miniredis expires keys only when told time passed,
// so a ticker tells it.
func startMiniredis(ctx context.Context) (*miniredis.Miniredis, error) {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return nil, fmt.Errorf("demo: start embedded Redis: %w", err)
	}
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				mr.FastForward(100 * time.Millisecond)
			}
		}
	}()
	return mr, nil
}

func demo(ctx context.Context, st *stack.Stack, file string, stdout io.Writer) error {
	res, err := intake.New(st.Store, st.Client).Run(ctx, intake.Request{
		Path: file, Product: momo.Disbursement, Balance: st.MoMo,
		Options: batch.Options{TargetEnvironment: momosim.DefaultTargetEnvironment, DefaultCurrency: "EUR"},
	})
	for _, e := range resErrors(res) {
		fmt.Fprintln(stdout, e)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "enqueued batch %s: %d payouts, %s\n\n", res.BatchID, res.Accepted, res.TotalString())

	start, last := time.Now(), ""
	err = st.WaitDone(ctx, res.BatchID, func(c ledger.Counts) {
		if line := fmt.Sprintf("%d payouts: %s", c.Total(), c); line != last {
			fmt.Fprintf(stdout, "[%5.1fs] %s\n", time.Since(start).Seconds(), line)
			last = line
		}
	})
	if err != nil {
		return fmt.Errorf("demo: batch did not finish: %w", err)
	}
	fmt.Fprintln(stdout)
	if err := report.WriteTable(ctx, st.Store, res.BatchID, stdout, tasks.MaskMSISDN); err != nil {
		return err
	}
	status, err := report.GetStatus(ctx, st.Store, res.BatchID)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if err := status.WriteText(stdout); err != nil {
		return err
	}
	return check(ctx, st, res.BatchID, stdout)
}

func resErrors(res *intake.Result) []string {
	if res == nil {
		return nil
	}
	var out []string
	for _, e := range res.Errors {
		out = append(out, e.Error())
	}
	return out
}

// check compares every row with the sandbox test-number table and the simulator's own ledger.
func check(ctx context.Context, st *stack.Stack, id string, stdout io.Writer) error {
	var wrong []string
	err := st.Store.EachItem(ctx, id, func(it *ledger.Item) error {
		want, reason := momosim.ExpectedOutcome(it.PartyID)
		if string(it.State) != want || (reason != "" && it.Reason != reason) {
			wrong = append(wrong, fmt.Sprintf("line %d: %s %s, the table says %s %s",
				it.Line, it.State, it.Reason, want, reason))
		}
		return nil
	})
	if err != nil {
		return err
	}
	stats := st.Sim.Stats()
	fmt.Fprintf(stdout, "\nsimulator: %d transfers created, %d payees paid twice\n",
		stats.TransfersCreated, stats.PaidTwice)
	if len(wrong) > 0 || stats.PaidTwice > 0 {
		return errors.New("demo: " + strings.Join(append(wrong, fmt.Sprintf("%d paid twice", stats.PaidTwice)), "; "))
	}
	fmt.Fprintln(stdout, "every row ended in the state the sandbox test-number table gives it")
	return nil
}
