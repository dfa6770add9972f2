package report

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/money"
)

// Summary accounts for every line of a batch file, by state and reason, with counts and
// amounts per currency. A line retried with 'payoutctl retry-failed' has several attempts:
// its outcome is its latest attempt's, and its earlier, RETRIED attempts are shown apart so
// that no line is counted twice.
type Summary struct {
	Batch    string
	File     string
	Status   string // the batch's status
	Rows     int    // data rows read from the file
	Accepted int    // rows that became payouts
	Rejected int    // rows refused by validation

	Lines   int // distinct lines found in the ledger
	Latest  int // latest attempts: one per line
	Earlier int // RETRIED attempts, superseded by a later attempt of their line
	// Total is the accepted amount per currency in minor units: each line's amount once.
	Total map[string]int64
	// Groups are the latest attempts by state and reason, in report order.
	Groups []Group
	// Retried are the RETRIED attempts by reason: why they were retried.
	Retried []Group
	// Problems lists every way the summary fails to reconcile; empty when it does.
	Problems []string
}

// Group is the attempts of one state and reason.
type Group struct {
	State   ledger.State
	Reason  string
	Count   int
	Amounts map[string]int64 // per currency, in minor units
}

// Reconciles reports whether rows read = accepted + rejected, every accepted line has exactly
// one latest attempt, and the latest attempts' amounts add up to the accepted total.
func (s *Summary) Reconciles() bool { return len(s.Problems) == 0 }

// Summarize reads a batch and sums its items. When the ledger's counters did not move while
// the items were read, they are checked against the sums too.
func Summarize(ctx context.Context, store *ledger.Store, id string) (*Summary, error) {
	b, err := store.GetBatch(ctx, id)
	if err != nil {
		return nil, err
	}
	before, err := store.Counts(ctx, id)
	if err != nil {
		return nil, err
	}
	sc := newScan()
	if err := store.EachItem(ctx, id, sc.add); err != nil {
		return nil, err
	}
	sc.endLine()
	after, err := store.Counts(ctx, id)
	if err != nil {
		return nil, err
	}

	s := sc.summary(b)
	if sameCounts(before, after) {
		s.Problems = append(s.Problems, sc.checkCounters(after)...)
	}
	return s, nil
}

// scan sums items read in line order; all attempts of a line come one after the other.
type scan struct {
	line, latestInLine int
	lineMinor          int64 // what the line pays, in lineCur
	lineCur            string
	lines, latest      int
	earlier            int
	total              map[string]int64
	groups             map[groupKey]*Group
	problems           []string
}

type groupKey struct {
	state  ledger.State
	reason string
}

func newScan() *scan {
	return &scan{line: -1, total: map[string]int64{}, groups: map[groupKey]*Group{}}
}

func (sc *scan) add(it *ledger.Item) error {
	if it.Line != sc.line {
		sc.endLine()
		sc.line, sc.latestInLine = it.Line, 0
		sc.lineMinor, sc.lineCur = it.Minor, it.Currency
		sc.lines++
		sc.total[it.Currency] += it.Minor
	} else if it.Minor != sc.lineMinor || it.Currency != sc.lineCur {
		sc.problems = append(sc.problems, fmt.Sprintf("line %d: attempt %s pays %s %s, "+
			"another attempt %s %s", it.Line, it.Ref, it.Currency,
			money.FormatMinor(it.Minor, it.Currency), sc.lineCur,
			money.FormatMinor(sc.lineMinor, sc.lineCur)))
	}
	if it.State == ledger.Retried {
		sc.earlier++
	} else {
		sc.latest++
		sc.latestInLine++
	}
	g := sc.groups[groupKey{it.State, it.Reason}]
	if g == nil {
		g = &Group{State: it.State, Reason: it.Reason, Amounts: map[string]int64{}}
		sc.groups[groupKey{it.State, it.Reason}] = g
	}
	g.Count++
	g.Amounts[it.Currency] += it.Minor
	return nil
}

// endLine checks that the line just read has exactly one latest attempt.
func (sc *scan) endLine() {
	if sc.line >= 0 && sc.latestInLine != 1 {
		sc.problems = append(sc.problems, fmt.Sprintf("line %d has %d latest attempts, not 1",
			sc.line, sc.latestInLine))
	}
}

func (sc *scan) summary(b *ledger.Batch) *Summary {
	s := &Summary{
		Batch: b.ID, File: b.File, Status: b.Status, Rows: b.Rows, Accepted: b.Accepted,
		Rejected: b.Rejected,
		Lines:    sc.lines, Latest: sc.latest, Earlier: sc.earlier, Total: sc.total,
		Problems: sc.problems,
	}
	for _, g := range sortedGroups(sc.groups) {
		if g.State == ledger.Retried {
			s.Retried = append(s.Retried, *g)
		} else {
			s.Groups = append(s.Groups, *g)
		}
	}
	s.Problems = append(s.Problems, s.checkTotals()...)
	return s
}

// checkTotals is what must hold between the file's counts and the ledger's items.
func (s *Summary) checkTotals() []string {
	if ledger.Unopened(s.Status) {
		return []string{"the batch is still loading: enqueue has not recorded the file's " +
			"row counts yet"}
	}
	var p []string
	if s.Rows != s.Accepted+s.Rejected {
		p = append(p, fmt.Sprintf("rows read %d != accepted %d + rejected %d",
			s.Rows, s.Accepted, s.Rejected))
	}
	if s.Lines != s.Accepted {
		p = append(p, fmt.Sprintf("the ledger holds %d lines, the file had %d accepted",
			s.Lines, s.Accepted))
	}
	if s.Latest != s.Accepted {
		p = append(p, fmt.Sprintf("latest attempts %d != accepted %d", s.Latest, s.Accepted))
	}
	sum := map[string]int64{}
	for _, g := range s.Groups {
		for cur, minor := range g.Amounts {
			sum[cur] += minor
		}
	}
	if !maps.Equal(sum, s.Total) {
		p = append(p, fmt.Sprintf("amounts by state add up to %s, the accepted total is %s",
			formatAmounts(sum), formatAmounts(s.Total)))
	}
	return p
}

// checkCounters compares the sums with the ledger's counters of the batch.
func (sc *scan) checkCounters(c ledger.Counts) []string {
	n := map[ledger.State]int64{}
	amounts := map[ledger.State]map[string]int64{}
	for k, g := range sc.groups {
		n[k.state] += int64(g.Count)
		if amounts[k.state] == nil {
			amounts[k.state] = map[string]int64{}
		}
		for cur, minor := range g.Amounts {
			amounts[k.state][cur] += minor
		}
	}
	var p []string
	for _, st := range unionStates(n, c.Items) {
		if n[st] != c.Items[st] {
			p = append(p, fmt.Sprintf("%s: %d items, the counters say %d", st, n[st], c.Items[st]))
		}
		if got, want := nonZero(amounts[st]), nonZero(c.Amounts[st]); !maps.Equal(got, want) {
			p = append(p, fmt.Sprintf("%s: items pay %s, the counters say %s", st,
				formatAmounts(got), formatAmounts(want)))
		}
	}
	return p
}

// WriteText prints the summary for people.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "summary of batch %s (file %s)\n", s.Batch, s.File)
	fmt.Fprintf(tw, "rows\t%d read = %d accepted + %d rejected\n", s.Rows, s.Accepted, s.Rejected)
	fmt.Fprintf(tw, "accepted\t%d = %d latest attempts", s.Accepted, s.Latest)
	if s.Earlier > 0 {
		fmt.Fprintf(tw, " (and %s RETRIED, shown apart, not counted)",
			plural(s.Earlier, "earlier attempt"))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "STATE\tREASON\tCOUNT\tAMOUNT")
	for _, g := range s.Groups {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", g.State, g.Reason, g.Count, formatAmounts(g.Amounts))
	}
	fmt.Fprintf(tw, "total\t\t%d\t%s\n", s.Latest, formatAmounts(s.Total))
	for _, g := range s.Retried {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s (earlier attempts, not in the total)\n", g.State, g.Reason,
			g.Count, formatAmounts(g.Amounts))
	}
	if s.Reconciles() {
		fmt.Fprintln(tw, "reconciles\tyes: rows = accepted + rejected; accepted = latest attempts; "+
			"amounts by state = accepted total")
	} else {
		fmt.Fprintf(tw, "reconciles\tNO:\n")
		for _, p := range s.Problems {
			fmt.Fprintf(tw, "  %s\n", p)
		}
	}
	return tw.Flush()
}

// sortedGroups orders groups by state, in ledger.States order (RETRIED and states the
// ledger does not list after), then by reason.
func sortedGroups(m map[groupKey]*Group) []*Group {
	gs := slices.Collect(maps.Values(m))
	slices.SortFunc(gs, func(a, b *Group) int {
		if c := stateRank(a.State) - stateRank(b.State); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.State), string(b.State)); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return gs
}

func stateRank(st ledger.State) int {
	if i := slices.Index(ledger.States, st); i >= 0 {
		return i
	}
	return len(ledger.States)
}

func unionStates(a, b map[ledger.State]int64) []ledger.State {
	all := maps.Clone(a)
	maps.Copy(all, b)
	return orderedStates(all)
}

// orderedStates returns the keys of m in ledger.States order, others after by name.
func orderedStates(m map[ledger.State]int64) []ledger.State {
	out := slices.Collect(maps.Keys(m))
	slices.SortFunc(out, func(a, b ledger.State) int {
		if c := stateRank(a) - stateRank(b); c != 0 {
			return c
		}
		return strings.Compare(string(a), string(b))
	})
	return out
}

func nonZero(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func sameCounts(a, b ledger.Counts) bool {
	if !maps.Equal(a.Items, b.Items) || len(a.Amounts) != len(b.Amounts) {
		return false
	}
	for st, m := range a.Amounts {
		if !maps.Equal(m, b.Amounts[st]) {
			return false
		}
	}
	return true
}

// plural says "1 earlier attempt" or "2 earlier attempts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// formatAmounts prints amounts per currency: "EUR 22.50, UGX 1000"; "-" when there are none.
func formatAmounts(m map[string]int64) string {
	var parts []string
	for _, cur := range sortedKeys(m) {
		parts = append(parts, cur+" "+money.FormatMinor(m[cur], cur))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// Progress is how far a batch has come: its lines' latest attempts, by state, and how many of
// them are final. RETRIED attempts are left out, so a retried line counts once.
type Progress struct {
	Status   string // the batch's status
	Accepted int
	Latest   int64                  // latest attempts, one per accepted line once loaded
	Terminal int64                  // latest attempts in a terminal state
	States   map[ledger.State]int64 // latest attempts by state
	Done     bool                   // loaded, and every latest attempt is terminal
}

// GetProgress reads a batch's progress from its counters.
func GetProgress(ctx context.Context, store *ledger.Store, id string) (*Progress, error) {
	b, err := store.GetBatch(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := store.Counts(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &Progress{Status: b.Status, Accepted: b.Accepted, States: map[ledger.State]int64{}}
	for st, n := range c.Items {
		// Superseded attempts are not a state of the batch's lines.
		if st == ledger.Retried || n == 0 {
			continue
		}
		p.States[st] = n
		p.Latest += n
		if st.Terminal() {
			p.Terminal += n
		}
	}
	p.Done = !ledger.Unopened(b.Status) && p.Terminal == p.Latest
	return p, nil
}

// Line is the progress in one line of text: "7/10 final (SUCCESSFUL 5, FAILED 2), status ready".
func (p *Progress) Line() string {
	var parts []string
	for _, st := range orderedStates(p.States) {
		parts = append(parts, fmt.Sprintf("%s %d", st, p.States[st]))
	}
	done := ""
	if p.Done {
		done = ", done"
	}
	return fmt.Sprintf("%d/%d final (%s), status %s%s", p.Terminal, p.Accepted,
		strings.Join(parts, ", "), p.Status, done)
}
