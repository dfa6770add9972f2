package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/momopay/payout/internal/report"
)

func cmdReport(e *env, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	out := fs.String("o", "", "write the CSV to this file instead of stdout")
	pos, err := parse(fs, args, 1, "one batch ID")
	if err != nil {
		return err
	}
	id := pos[0]
	// The summary goes where it cannot mix with the CSV: stdout when the CSV goes to a file.
	summaryTo := e.stderr
	if *out == "" {
		if err := report.WriteCSV(e.ctx, e.store, id, e.stdout); err != nil {
			return err
		}
	} else {
		if err := writeReportFile(e, id, *out); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "report of batch %s written to %s\n", id, *out)
		summaryTo = e.stdout
	}
	return writeSummary(e, id, summaryTo)
}

// writeReportFile writes the CSV beside the target and renames it, so a failed report never
// leaves half a file.
func writeReportFile(e *env, id, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = report.WriteCSV(e.ctx, e.store, id, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}

// writeSummary prints the batch's summary by state and reason; one that does not reconcile
// is an error, after it is printed.
func writeSummary(e *env, id string, w io.Writer) error {
	sum, err := report.Summarize(e.ctx, e.store, id)
	if err != nil {
		return err
	}
	if err := sum.WriteText(w); err != nil {
		return err
	}
	if !sum.Reconciles() {
		return fmt.Errorf("report: batch %s does not reconcile: %s (see the summary)", id,
			sum.Problems[0])
	}
	return nil
}
