// Command payoutctl lets operators see and steer batches without touching Redis.
//
//	payoutctl list
//	payoutctl status BATCH [-json]
//	payoutctl report BATCH [-o FILE]
//	payoutctl pause BATCH
//	payoutctl resume BATCH | -product disbursement|remittance
//	payoutctl cancel BATCH
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/config"
	"github.com/momopay/payout/internal/ledger"
)

func main() { cli.Main("payoutctl", run) }

const usage = `usage: payoutctl COMMAND [flags]

commands:
  list                          batches with product, status and progress
  status BATCH [-json]          rows, counts and amounts by state, and whether the batch is done
  report BATCH [-o FILE]        one CSV row per accepted line (stdout by default)
  pause BATCH                   stop submitting the batch's remaining rows
  resume BATCH                  submit them again (after a top-up, say)
  resume -product PRODUCT       resume a product paused for bad credentials or configuration
  cancel BATCH                  cancel rows not yet submitted; submitted ones finish`

// env is what every subcommand gets.
type env struct {
	ctx    context.Context
	cfg    config.Config
	rdb    redis.UniversalClient
	store  *ledger.Store
	stdout io.Writer
}

type command func(e *env, args []string) error

var commands = map[string]command{
	"list": cmdList, "status": cmdStatus, "report": cmdReport,
	"pause": cmdPause, "resume": cmdResume, "cancel": cmdCancel,
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, usage)
		if len(args) == 0 {
			return cli.Usagef("give a command")
		}
		return flag.ErrHelp
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return cli.Usagef("unknown command %q", args[0])
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	_, rdb, err := cfg.Redis()
	if err != nil {
		return err
	}
	defer rdb.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmd(&env{ctx: ctx, cfg: cfg, rdb: rdb, store: ledger.New(rdb), stdout: stdout}, args[1:])
}

// parse parses flags that may stand before or after the positional arguments, and checks
// their number.
func parse(fs *flag.FlagSet, args []string, want int, what string) ([]string, error) {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: payoutctl %s [flags]   (%s)\n", fs.Name(), what)
		fs.PrintDefaults()
	}
	var pos []string
	for {
		if err := cli.ParseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != want {
		return nil, cli.Usagef("%s: expected %s", fs.Name(), what)
	}
	return pos, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
