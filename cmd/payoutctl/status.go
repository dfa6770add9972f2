package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/report"
)

// batchView is a batch's status with the count of its RETRIED attempts, which
// report.Status does not list.
type batchView struct {
	*report.Status
	// Retried counts earlier attempts replaced by 'payoutctl retry-failed'; each line counts
	// once, by its latest attempt, in the states.
	Retried int64 `json:"retried,omitempty"`
}

// batchStatus reads a batch's status.
func batchStatus(ctx context.Context, store *ledger.Store, id string) (*batchView, error) {
	st, err := report.GetStatus(ctx, store, id)
	if err != nil {
		return nil, err
	}
	c, err := store.Counts(ctx, id)
	if err != nil {
		return nil, err
	}
	return &batchView{Status: st, Retried: c.Items[ledger.Retried]}, nil
}

// writeText prints the status for people.
func (v *batchView) writeText(w io.Writer) error {
	if err := v.Status.WriteText(w); err != nil {
		return err
	}
	switch {
	case v.Retried == 1:
		_, err := fmt.Fprintln(w, "  (and 1 earlier attempt RETRIED as a new one; "+
			"each line counts once, by its latest attempt)")
		return err
	case v.Retried > 1:
		_, err := fmt.Fprintf(w, "  (and %d earlier attempts RETRIED as new ones; "+
			"each line counts once, by its latest attempt)\n", v.Retried)
		return err
	}
	return nil
}

func cmdStatus(e *env, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print a JSON object")
	watch := fs.Bool("watch", false, "show progress until the batch is done, then the status")
	interval := fs.Duration("interval", time.Second, "with -watch: how often to look")
	pos, err := parse(fs, args, 1, "one batch ID")
	if err != nil {
		return err
	}
	if *interval <= 0 {
		return cli.Usagef("status: -interval must be positive")
	}
	ctx := e.ctx
	if *watch {
		if err := watchBatch(e.ctx, e, pos[0], *interval, isTerminal(e.stdout)); err != nil {
			return err
		}
		// Stopped with Ctrl-C: still show where the batch stands.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(e.ctx), 10*time.Second)
		defer cancel()
	}
	st, err := batchStatus(ctx, e.store, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, st)
	}
	return st.writeText(e.stdout)
}

// watchBatch shows a batch's progress, terminal items over accepted ones, until it is done
// or ctx is cancelled: as a progress bar on a terminal, else as a line per change.
func watchBatch(ctx context.Context, e *env, id string, interval time.Duration, tty bool) error {
	p, err := report.GetProgress(ctx, e.store, id)
	if err != nil {
		return err
	}
	view := newProgressView(e.stdout, id, tty)
	view.show(p)
	t := time.NewTicker(interval)
	defer t.Stop()
	for !p.Done {
		select {
		case <-ctx.Done():
			view.stop()
			return nil
		case <-t.C:
		}
		if p, err = report.GetProgress(ctx, e.store, id); err != nil {
			if ctx.Err() != nil {
				view.stop()
				return nil
			}
			return err
		}
		view.show(p)
	}
	view.stop()
	return nil
}

// progressView shows progress as it changes.
type progressView interface {
	show(p *report.Progress)
	stop()
}

func newProgressView(w io.Writer, id string, tty bool) progressView {
	if !tty {
		return &lineView{w: w, id: id}
	}
	bar := progressbar.NewOptions64(1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("batch "+id),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(40),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetRenderBlankState(true),
	)
	return &barView{w: w, bar: bar}
}

// lineView prints one line per change, for logs and pipes.
type lineView struct {
	w    io.Writer
	id   string
	last string
}

func (v *lineView) show(p *report.Progress) {
	line := p.Line()
	if line == v.last {
		return
	}
	v.last = line
	fmt.Fprintf(v.w, "%s batch %s: %s\n", time.Now().Format(time.TimeOnly), v.id, line)
}

func (v *lineView) stop() {}

// barView draws a progress bar of final items over accepted ones.
type barView struct {
	w   io.Writer
	bar *progressbar.ProgressBar
	max int64
}

func (v *barView) show(p *report.Progress) {
	// A loading batch has no accepted count yet; the bar waits at 0 of 1.
	if total := max(int64(p.Accepted), 1); total != v.max {
		v.max = total
		v.bar.ChangeMax64(total)
	}
	_ = v.bar.Set64(min(p.Terminal, v.max))
}

func (v *barView) stop() {
	_ = v.bar.Exit()
	fmt.Fprintln(v.w)
}

// isTerminal reports whether w is a terminal, where a progress bar can redraw itself.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
