// Package cli holds what the commands share: exit codes, logging setup and the way a main
// turns an error into an exit status.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

func init() {
	// go-redis logs its own connection troubles; the commands report errors themselves.
	redis.SetLogger(quietRedis{})
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// Exit codes of every command.
const (
	ExitOK          = 0 // done
	ExitFailure     = 1 // failed: Redis unreachable, MoMo refused, a file could not be read...
	ExitUsage       = 2 // the command line is wrong
	ExitInvalidRows = 3 // enqueue: the file is invalid; nothing was enqueued
	ExitRefused     = 4 // enqueue: a guard refused the batch; nothing was enqueued
)

// UsageError is a mistake in the command line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ExitError carries a specific exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Main runs a command's run function and exits with the code its error calls for.
func Main(name string, run func(args []string, stdout, stderr io.Writer) error) {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(Exit(name, err, os.Stderr))
}

// Exit prints err (if any) and returns the exit code for it.
func Exit(name string, err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "%s: %s\n(run '%s -h' for usage)\n", name, ue.Msg, name)
		return ExitUsage
	}
	code := ExitFailure
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return code
}

// ParseFlags parses args, turning a flag error into a UsageError.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fs.Usage()
			return flag.ErrHelp
		}
		return Usagef("%v", err)
	}
	return nil
}

// Logger returns the product's logger: JSON lines by default, or a console format for people.
func Logger(w io.Writer, format, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	if format == "console" {
		f, isFile := w.(*os.File)
		color := isFile && isatty.IsTerminal(f.Fd())
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !color}
	} else if format != "json" && format != "" {
		return zerolog.Nop(), Usagef("log format %q: use json or console", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}
