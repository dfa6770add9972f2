// Command bench measures the product against baselines run side by side on the same machine,
// Redis and simulator, and reports ratios, because a shared two-core box makes absolute
// figures noisy. It prints a table and writes the figures to bench/results.json. It fails
// loudly when a baseline or a run errors out.
//
//	bench [-rows 100000] [-big-rows 1000000] [-out bench/results.json]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/redisproc"
)

func main() { cli.Main("bench", run) }

// Figure is one measured result.
type Figure struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Baseline string  `json:"baseline,omitempty"`
	Target   string  `json:"target"`
	Met      bool    `json:"met"`
	Detail   string  `json:"detail,omitempty"`
}

type options struct {
	rows, bigRows, payouts, latencyPayouts, concurrency int
	out                                                 string
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	fs.IntVar(&o.rows, "rows", 100_000, "rows of the enqueue and CSV files")
	fs.IntVar(&o.bigRows, "big-rows", 1_000_000, "rows of the file whose peak RSS is measured")
	fs.IntVar(&o.payouts, "payouts", 5_000, "payouts of the end-to-end throughput run")
	fs.IntVar(&o.latencyPayouts, "latency-payouts", 500, "payouts of the 100 ms latency run")
	fs.IntVar(&o.concurrency, "concurrency", 10, "worker concurrency of the processing runs")
	fs.StringVar(&o.out, "out", "bench/results.json", "where to write the figures")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "payout-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{opts: o, dir: dir, log: stderr, start: time.Now()}
	defer b.stop()
	if err := b.startRedis(); err != nil {
		return err
	}
	figs, err := b.all(context.Background())
	if err != nil {
		return err
	}
	print(stdout, figs)
	return write(o.out, figs)
}

type bench struct {
	opts  options
	dir   string
	log   io.Writer
	start time.Time
	redis *redisproc.Server
	addr  string
	bin   string
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

// all runs every measurement in turn; a failed one fails the run.
func (b *bench) all(ctx context.Context) ([]Figure, error) {
	steps := []func(context.Context) ([]Figure, error){
		b.csvRatio, b.enqueueRatio, b.processRatio, b.latencyEfficiency, b.pollLag, b.enqueueRSS,
	}
	var figs []Figure
	for _, step := range steps {
		f, err := step(ctx)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f...)
	}
	return figs, nil
}

func (b *bench) startRedis() error {
	srv, err := redisproc.Start(b.dir, "--save", "", "--appendonly", "no")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	b.redis, b.addr = srv, srv.Addr
	b.logf("redis on %s (no persistence: baselines and product share it alike)", b.addr)
	return nil
}

func (b *bench) rdb() *redis.Client { return redis.NewClient(&redis.Options{Addr: b.addr}) }

func (b *bench) flush(ctx context.Context) error {
	rdb := b.rdb()
	defer rdb.Close()
	return rdb.FlushAll(ctx).Err()
}

func (b *bench) stop() {
	if b.redis != nil {
		b.redis.Stop()
	}
}

func print(w io.Writer, figs []Figure) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tTARGET\tMET\tBASELINE / DETAIL")
	for _, f := range figs {
		met := "yes"
		if !f.Met {
			met = "NO"
		}
		detail := f.Baseline
		if f.Detail != "" {
			detail += "  " + f.Detail
		}
		fmt.Fprintf(tw, "%s\t%.3g %s\t%s\t%s\t%s\n", f.Name, f.Value, f.Unit, f.Target, met, detail)
	}
	_ = tw.Flush()
}

func write(path string, figs []Figure) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	body, err := json.MarshalIndent(map[string]any{
		"generated_at": time.Now().UTC().Format(time.RFC3339), "figures": figs,
	}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(body, '\n'), 0o644)
}
