// Command momosim serves the MoMo simulator (internal/momosim) over HTTP until SIGINT or
// SIGTERM, for the demo, manual runs against the worker and chaos runs:
//
//	momosim -addr 127.0.0.1:8090 -pending 2s -post-fail-before 0.05 -rate-429 0.02
//
// It prints one line, "momosim listening on http://ADDR", once it accepts connections.
// The credentials it accepts are the package defaults unless MOMO_API_USER, MOMO_API_KEY,
// MOMO_DISBURSEMENT_KEY or MOMO_REMITTANCE_KEY are set in the environment (never flags:
// secrets stay out of process listings). Exit codes: 0 after a signal, 1 when serving
// fails, 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/momopay/payout/internal/momosim"
)

// shutdownTimeout bounds how long in-flight requests may finish after a signal.
const shutdownTimeout = 5 * time.Second

// errUsage marks errors in the command line; main exits 2 on them.
var errUsage = errors.New("usage error")

func main() {
	err := run()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "momosim:", err)
		os.Exit(1)
	}
}

// run serves until SIGINT or SIGTERM.
func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
}

// options are the parsed command line.
type options struct {
	addr string
	cfg  momosim.Config
}

// serve parses args, listens, reports the address on stdout and serves until ctx is done.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}

	sim := momosim.New(opts.cfg)
	defer sim.Close()
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "momosim listening on http://%s\n", ln.Addr())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// parseOptions reads the flags and the credential variables. Errors wrap errUsage, or are
// flag.ErrHelp for -h.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("momosim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8090", "address to listen on")
	fs.StringVar(&o.cfg.TargetEnvironment, "target-env", momosim.DefaultTargetEnvironment,
		"the X-Target-Environment to accept")
	fs.StringVar(&o.cfg.CallbackHost, "callback-host", "",
		"providerCallbackHost of the API user (default any host)")
	fs.Int64Var(&o.cfg.Seed, "seed", 0, "seed of the fault randomness (default time-based)")
	durations(fs, &o.cfg)
	probabilities(fs, &o.cfg.Faults)

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := checkOptions(fs, o.cfg); err != nil {
		fmt.Fprintln(stderr, err)
		fs.Usage()
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	o.cfg.APIUser = getenv("MOMO_API_USER")
	o.cfg.APIKey = getenv("MOMO_API_KEY")
	o.cfg.SubscriptionKeys = map[string]string{
		momosim.ProductDisbursement: getenv("MOMO_DISBURSEMENT_KEY"),
		momosim.ProductRemittance:   getenv("MOMO_REMITTANCE_KEY"),
	}
	return o, nil
}

// durations registers the timing flags.
func durations(fs *flag.FlagSet, cfg *momosim.Config) {
	fs.DurationVar(&cfg.PendingFor, "pending", 0, "how long an ordinary transfer stays PENDING")
	fs.DurationVar(&cfg.OngoingFor, "ongoing", momosim.DefaultOngoingFor,
		"how long test number 46733123453 stays PENDING")
	fs.DurationVar(&cfg.DelayedFor, "delayed", momosim.DefaultDelayedFor,
		"how long test number 46733123454 stays PENDING")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", momosim.DefaultTokenTTL, "lifetime of access tokens")
	fs.DurationVar(&cfg.Latency, "latency", 0, "latency added to every answer")
}

// probabilities registers the fault flags.
func probabilities(fs *flag.FlagSet, f *momosim.Faults) {
	fs.Float64Var(&f.PostFailBefore, "post-fail-before", 0,
		"share of transfer POSTs answered 500/503 without creating the transfer")
	fs.Float64Var(&f.PostDropAfter, "post-drop-after", 0,
		"share of transfer POSTs that create the transfer, then drop the connection")
	fs.Float64Var(&f.Post500After, "post-500-after", 0,
		"share of transfer POSTs that create the transfer, then answer 500")
	fs.Float64Var(&f.StatusFail, "status-fail", 0, "share of transfer GETs answered 500/503")
	fs.Float64Var(&f.TooManyRequests, "rate-429", 0, "share of product calls answered 429")
	fs.DurationVar(&f.SlowFor, "slow-for", 0, "how long a slowed request sleeps")
	fs.Float64Var(&f.SlowRate, "slow-rate", 0, "share of requests slowed by -slow-for")
}

// checkOptions refuses positional arguments, bad probabilities and negative durations.
func checkOptions(fs *flag.FlagSet, cfg momosim.Config) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("momosim: unexpected argument %q", fs.Arg(0))
	}
	if err := cfg.Faults.Validate(); err != nil {
		return err
	}
	for name, d := range map[string]time.Duration{
		"pending": cfg.PendingFor, "ongoing": cfg.OngoingFor, "delayed": cfg.DelayedFor,
		"token-ttl": cfg.TokenTTL, "latency": cfg.Latency,
	} {
		if d < 0 {
			return fmt.Errorf("momosim: -%s must not be negative, got %v", name, d)
		}
	}
	return nil
}
