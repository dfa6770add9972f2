package ledger_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/testutil"
)

// redisDB is the database of the ledger tests; other packages use other ones concurrently.
const redisDB = 1

// newStore returns a Store on a flushed database.
func newStore(t *testing.T) (*ledger.Store, context.Context) {
	t.Helper()
	return ledger.New(testutil.Redis(t, redisDB)), context.Background()
}

// newItem returns an accepted row of line n paying minor units of currency.
func newItem(line int, minor int64, currency string) ledger.NewItem {
	return ledger.NewItem{
		Line: line, PartyIDType: "MSISDN", PartyID: "4673312" + strconv.Itoa(1000+line%9000),
		Amount: strconv.FormatInt(minor, 10), Minor: minor, Currency: currency,
		ExternalID: "ext-" + strconv.Itoa(line), PayerMsg: "salary", PayeeNote: "june",
		Name: "Payee " + strconv.Itoa(line),
	}
}

// openBatch creates, fills and commits a batch, returning its items' reference IDs in order.
func openBatch(t *testing.T, s *ledger.Store, id string, items []ledger.NewItem,
	due time.Time) []string {
	t.Helper()
	ctx := context.Background()
	created, _, err := s.CreateBatch(ctx, ledger.Batch{
		ID: id, Product: "disbursement", File: id + ".csv", Fingerprint: "fp-" + id,
	})
	require.NoError(t, err)
	require.True(t, created)
	refs, fresh, err := s.AddItems(ctx, id, items, due)
	require.NoError(t, err)
	require.Len(t, refs, len(items))
	for i := range fresh {
		require.True(t, fresh[i], "line %d should be new", items[i].Line)
	}
	require.NoError(t, s.CommitBatch(ctx, id, len(items), len(items), 0))
	return refs
}

// move applies a transition that must succeed.
func move(t *testing.T, s *ledger.Store, batch, ref string, from []ledger.State, to ledger.State) {
	t.Helper()
	ok, _, err := s.Transition(context.Background(), batch, ref, ledger.Change{From: from, To: to})
	require.NoError(t, err)
	require.True(t, ok, "%s -> %s", from, to)
}

// requireV4 checks that ref is a canonical version-4 UUID, the form MoMo checks.
func requireV4(t *testing.T, ref string) {
	t.Helper()
	u, err := uuid.Parse(ref)
	require.NoError(t, err)
	require.Len(t, ref, 36)
	require.Equal(t, uuid.Version(4), u.Version())
	require.Equal(t, uuid.RFC4122, u.Variant())
}

func states(s ...ledger.State) []ledger.State { return s }
