// Command payoutctl lets operators see and steer batches without touching Redis.
//
//	payoutctl list
//	payoutctl status BATCH [-json] [-watch [-interval 1s]]
//	payoutctl report BATCH [-o FILE]
//	payoutctl pause BATCH
//	payoutctl resume BATCH | -product disbursement|remittance
//	payoutctl cancel BATCH
//	payoutctl retry-failed BATCH [-reason CODE]
//	payoutctl reconcile BATCH
//	payoutctl sandbox-user [-callback-host HOST] [-product disbursement|remittance]
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
  status BATCH -watch [-interval 1s]
                                a live progress bar (a line per change when not a terminal)
                                until the batch is done, then the status
  report BATCH [-o FILE]        one CSV row per accepted line (stdout by default), and a summary
                                by state and reason (to stdout with -o, else to stderr)
  pause BATCH                   stop submitting the batch's remaining rows
  resume BATCH                  submit them again (after a top-up, say)
  resume -product PRODUCT       resume a product paused for bad credentials or configuration
  cancel BATCH                  cancel rows not yet submitted; submitted ones finish
  retry-failed BATCH [-reason CODE]
                                pay FAILED rows again as new attempts with new reference IDs;
                                UNKNOWN, SUBMITTING and SUBMITTED rows are never touched
  reconcile BATCH               ask MoMo (10 queries/s at most) about UNKNOWN, SUBMITTING and
                                SUBMITTED rows and record the final answers
  sandbox-user [-callback-host HOST] [-product PRODUCT]
                                create a sandbox API user and key; prints export lines

MoMo settings come from the environment (see README, Configuration).`

// env is what every subcommand gets. rdb and store are nil for commands that need no Redis.
type env struct {
	ctx    context.Context
	cfg    config.Config
	rdb    redis.UniversalClient
	store  *ledger.Store
	stdout io.Writer
	stderr io.Writer
}

type command func(e *env, args []string) error

var commands = map[string]command{
	"list": cmdList, "status": cmdStatus, "report": cmdReport,
	"pause": cmdPause, "resume": cmdResume, "cancel": cmdCancel,
	"retry-failed": cmdRetryFailed, "reconcile": cmdReconcile, "sandbox-user": cmdSandboxUser,
}

// offline are the commands that talk to MoMo only, never to Redis.
var offline = map[string]bool{"sandbox-user": true}

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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{ctx: ctx, cfg: cfg, stdout: stdout, stderr: stderr}
	if !offline[args[0]] {
		_, rdb, err := cfg.Redis()
		if err != nil {
			return err
		}
		defer rdb.Close()
		e.rdb, e.store = rdb, ledger.New(rdb)
	}
	return cmd(e, args[1:])
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
