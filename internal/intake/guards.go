package intake

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/time/rate"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/money"
)

// ErrRefused wraps every refusal by a guard (limits, confirmation, balance): the file is valid
// but paying it now is not what the operator should do without a second look.
var ErrRefused = errors.New("intake: refused")

// Limits are amount guards per currency, in minor units; a currency absent from a map has no
// limit of that kind.
type Limits struct {
	MaxRow       map[string]int64 // a row above is invalid (PAYOUT_MAX_ROW_AMOUNT)
	MaxBatch     map[string]int64 // a batch total above is refused (PAYOUT_MAX_BATCH_AMOUNT)
	ConfirmAbove map[string]int64 // a batch total above needs ConfirmTotal (PAYOUT_CONFIRM_ABOVE)
}

// AccountChecker asks MoMo whether a payee's account can receive money.
type AccountChecker interface {
	AccountHolderActive(ctx context.Context, p momo.Product, partyIDType, partyID string) (bool, error)
}

// BalanceChecker reads the product's account balance.
type BalanceChecker interface {
	Balance(ctx context.Context, p momo.Product) (*momo.Balance, error)
}

// rowGuard applies the checks that look beyond one row: duplicates across rows, the per-row
// amount limit and the account check. It decides on the first pass over the file and
// remembers only the rows it refused, so that every later pass accepts the very same rows
// (the file's hash proves the later passes read the same bytes) without asking MoMo again or
// keeping a hash per row in memory.
type rowGuard struct {
	ctx      context.Context
	req      Request
	dups     *dupCheck
	repeats  *repeatCheck // nil when repeated external IDs are allowed
	rejected map[int]*batch.RowError
	asked    bool
}

func newRowGuard(ctx context.Context, req Request) *rowGuard {
	return &rowGuard{ctx: ctx, req: req, dups: newDupCheck(req.Path, req.Strict),
		rejected: map[int]*batch.RowError{}}
}

// done marks the first pass over: its per-row hashes are dropped and later passes use the
// decisions it recorded.
func (g *rowGuard) done() { g.asked, g.dups = true, nil }

// check returns a row error for a row that a check across rows refuses, and a warning.
func (g *rowGuard) check(row batch.Row) (*batch.RowError, string, error) {
	if g.asked {
		return g.rejected[row.Line], "", nil
	}
	rowErr, warn := g.dups.check(row)
	if rowErr == nil {
		var err error
		if rowErr, err = g.checkRow(row); err != nil {
			return nil, "", err
		}
	}
	if rowErr != nil {
		g.rejected[row.Line] = rowErr
	} else if g.repeats != nil {
		if err := g.repeats.add(row); err != nil {
			return nil, "", err
		}
	}
	return rowErr, warn, nil
}

// finish ends the first pass's lookups: it asks about the rows still waiting.
func (g *rowGuard) finish() error {
	if g.repeats == nil || g.asked {
		return nil
	}
	return g.repeats.flush()
}

func (g *rowGuard) checkRow(row batch.Row) (*batch.RowError, error) {
	cur := row.Amount.Currency
	if limit, ok := g.req.Limits.MaxRow[cur]; ok && row.Amount.Minor > limit {
		return fieldError(g.req.Path, row.Line, batch.ColumnAmount, fmt.Sprintf(
			"amount %s %s is above the per-row limit of %s %s (PAYOUT_MAX_ROW_AMOUNT)",
			row.Amount, cur, money.FormatMinor(limit, cur), cur)), nil
	}
	if g.req.Accounts == nil {
		return nil, nil
	}
	reason, err := g.ask(row)
	if err != nil || reason == "" {
		return nil, err
	}
	return fieldError(g.req.Path, row.Line, batch.ColumnMSISDN, reason), nil
}

// ask checks one payee with MoMo, at the configured rate.
func (g *rowGuard) ask(row batch.Row) (string, error) {
	if g.req.AccountRate != nil {
		if err := g.req.AccountRate.Wait(g.ctx); err != nil {
			return "", err
		}
	}
	active, err := g.req.Accounts.AccountHolderActive(g.ctx, g.req.Product, row.PartyIDType, row.PartyID)
	switch {
	case momo.Classify(err) == momo.ClassNotFound:
		return "MoMo has no account holder " + row.PartyID, nil
	case err != nil:
		return "", fmt.Errorf("intake: %s: line %d: account check: %w", g.req.Path, row.Line, err)
	case !active:
		return "MoMo says account holder " + row.PartyID + " is not active", nil
	}
	return "", nil
}

func fieldError(file string, line int, column, reason string) *batch.RowError {
	return &batch.RowError{File: file, Line: line, Fields: []batch.FieldError{{Column: column, Reason: reason}}}
}

// NewAccountRate returns the limiter for account checks: perSecond queries a second.
func NewAccountRate(perSecond float64) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(perSecond), 1)
}

// checkTotals applies the batch guards to a validated file.
func (in *Intake) checkTotals(ctx context.Context, req Request, res *Result) error {
	var problems []string
	for _, cur := range sortedKeys(res.Totals) {
		total := res.Totals[cur]
		if limit, ok := req.Limits.MaxBatch[cur]; ok && total > limit {
			problems = append(problems, fmt.Sprintf("the batch total %s %s is above the per-batch "+
				"limit of %s %s (PAYOUT_MAX_BATCH_AMOUNT)", cur, money.FormatMinor(total, cur),
				cur, money.FormatMinor(limit, cur)))
		}
		if limit, ok := req.Limits.ConfirmAbove[cur]; ok && total > limit {
			if got, ok := req.ConfirmTotal[cur]; !ok || got != total {
				problems = append(problems, fmt.Sprintf("the batch total %s %s is above %s %s "+
					"(PAYOUT_CONFIRM_ABOVE): pass -confirm-total '%s %s' to confirm it", cur,
					money.FormatMinor(total, cur), cur, money.FormatMinor(limit, cur), cur,
					money.FormatMinor(total, cur)))
			}
		}
	}
	for cur, got := range req.ConfirmTotal {
		if got != res.Totals[cur] {
			problems = append(problems, fmt.Sprintf("-confirm-total says %s %s, the file totals %s %s",
				cur, money.FormatMinor(got, cur), cur, money.FormatMinor(res.Totals[cur], cur)))
		}
	}
	if req.Balance != nil && len(problems) == 0 {
		if p, err := in.checkBalance(ctx, req, res); err != nil || p != "" {
			if err != nil {
				return err
			}
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%w: %s; nothing was enqueued", ErrRefused, strings.Join(problems, "; "))
	}
	return nil
}

// checkBalance compares the account balance with the batch total in the account's currency.
func (in *Intake) checkBalance(ctx context.Context, req Request, res *Result) (string, error) {
	bal, err := req.Balance.Balance(ctx, req.Product)
	if err != nil {
		return "", fmt.Errorf("intake: read the %s account balance (or pass -skip-balance-check): %w",
			req.Product, err)
	}
	cur := strings.ToUpper(bal.Currency)
	have, err := money.Parse(bal.AvailableBalance, cur)
	if err != nil && strings.Trim(bal.AvailableBalance, "0.") != "" {
		return "", fmt.Errorf("intake: MoMo's balance %q %s: %w", bal.AvailableBalance, cur, err)
	}
	for _, c := range sortedKeys(res.Totals) {
		if c != cur {
			return fmt.Sprintf("the %s account holds %s, the batch pays %s (pass -skip-balance-check "+
				"if another account funds it)", req.Product, cur, c), nil
		}
	}
	if need := res.Totals[cur]; need > have.Minor {
		return fmt.Sprintf("the %s account balance %s %s does not cover the batch total %s %s "+
			"(top up, or pass -skip-balance-check)", req.Product, cur,
			money.FormatMinor(have.Minor, cur), cur, money.FormatMinor(need, cur)), nil
	}
	return "", nil
}
