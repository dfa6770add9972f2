package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/momopay/payout/internal/momosim"
)

// figures are what a chaos run proves.
type figures struct {
	accepted, terminal, paidTwice, neverSubmitted, matching, mismatched int
}

// check reads the batch report through payoutctl, as an operator would, and holds every row
// against the simulator's record of what it created.
func (h *harness) check(ctx context.Context, finished bool) error {
	rows, err := h.report(ctx)
	if err != nil {
		return err
	}
	created := map[string]momosim.Transfer{}
	perExternal := map[string]int{}
	for _, t := range h.sim.Transfers() {
		created[t.ReferenceID] = t
		perExternal[t.ExternalID]++
	}
	var f figures
	var problems []string
	for _, r := range rows {
		f.accepted++
		state := r["state"]
		if state == "SUCCESSFUL" || state == "FAILED" || state == "CANCELLED" || state == "UNKNOWN" {
			f.terminal++
		}
		t, ok := created[r["reference_id"]]
		if !ok {
			f.neverSubmitted++
			problems = append(problems, fmt.Sprintf("line %s never reached MoMo (state %s)", r["line"], state))
			continue
		}
		if t.Status == state && t.FinancialTransactionID == r["financial_transaction_id"] &&
			t.Amount == r["amount"] && t.ExternalID == r["external_id"] {
			f.matching++
		} else {
			f.mismatched++
			problems = append(problems, fmt.Sprintf("line %s: report says %s/%s, MoMo has %s/%s",
				r["line"], state, r["financial_transaction_id"], t.Status, t.FinancialTransactionID))
		}
	}
	for ext, n := range perExternal {
		if n > 1 {
			f.paidTwice++
			problems = append(problems, fmt.Sprintf("external ID %s created %d times", ext, n))
		}
	}
	f.paidTwice = max(f.paidTwice, h.sim.Stats().PaidTwice)
	h.print(f, finished)
	if !finished {
		problems = append(problems, "the batch did not finish before the deadline")
	}
	if f.accepted != h.opts.rows || f.terminal != f.accepted {
		problems = append(problems, fmt.Sprintf("%d rows accepted, %d terminal, of %d", f.accepted, f.terminal, h.opts.rows))
	}
	if len(problems) > 0 {
		if len(problems) > 20 {
			problems = append(problems[:20], fmt.Sprintf("... %d more", len(problems)-20))
		}
		return errors.New("chaos: VIOLATIONS:\n  " + strings.Join(problems, "\n  "))
	}
	fmt.Fprintln(h.out, "chaos: PASS")
	return nil
}

func (h *harness) print(f figures, finished bool) {
	st := h.sim.Stats()
	fmt.Fprintf(h.out, "\n%-40s %d\n", "rows accepted", f.accepted)
	fmt.Fprintf(h.out, "%-40s %d\n", "rows terminal", f.terminal)
	fmt.Fprintf(h.out, "%-40s %d (must be 0)\n", "payees paid twice", f.paidTwice)
	fmt.Fprintf(h.out, "%-40s %d (must be 0)\n", "accepted rows never submitted", f.neverSubmitted)
	fmt.Fprintf(h.out, "%-40s %d of %d (must be all)\n", "report rows matching MoMo's ledger", f.matching, f.accepted)
	fmt.Fprintf(h.out, "%-40s %d\n", "workers SIGKILLed", h.kills)
	fmt.Fprintf(h.out, "%-40s %d\n", "faults injected by the simulator", st.FaultsInjected)
	fmt.Fprintf(h.out, "%-40s %d created, %d answered 409, %d tokens issued\n", "simulator", st.TransfersCreated, st.Conflicts409, st.TokensIssued)
	fmt.Fprintf(h.out, "%-40s %s (finished: %v)\n", "wall time", time.Since(h.start).Round(100*time.Millisecond), finished)
}

// report runs payoutctl report and returns its rows as column -> value maps.
func (h *harness) report(ctx context.Context) ([]map[string]string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(h.bin, "payoutctl"), "report", h.batch)
	cmd.Env = h.env()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("chaos: payoutctl report: %v: %s", err, errOut.String())
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, fmt.Errorf("chaos: read report: %v", err)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, col := range recs[0] {
			row[col] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows, nil
}
