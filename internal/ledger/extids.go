package ledger

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// externalIDsKey indexes, per product, every external ID a file gave an enqueued item: field
// the external ID, value "batch ref" of the latest item that carried it. MoMo does not
// deduplicate external IDs, so this is how a later file that pays the same rows again is
// caught. It is one hash per product, outside any batch's hash slot: it is only read and
// written in pipelines, never from a batch's scripts.
func externalIDsKey(product string) string { return Prefix + "extids:" + product }

// ExternalIDUse is the item an external ID was last enqueued with.
type ExternalIDUse struct {
	Batch string
	Ref   string
}

// ExternalIDUses looks up external IDs of a product, in order; an ID never enqueued gets a zero
// ExternalIDUse.
func (s *Store) ExternalIDUses(ctx context.Context, product string, ids []string) ([]ExternalIDUse, error) {
	out := make([]ExternalIDUse, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	vals, err := s.rdb.HMGet(ctx, externalIDsKey(product), ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("ledger: look up external IDs: %w", err)
	}
	for i, v := range vals {
		str, _ := v.(string)
		if b, r, ok := strings.Cut(str, " "); ok {
			out[i] = ExternalIDUse{Batch: b, Ref: r}
		}
	}
	return out, nil
}

// RecordExternalIDs notes that the items refs of batch carry the external IDs ids (same order).
func (s *Store) RecordExternalIDs(ctx context.Context, product, batch string, ids, refs []string) error {
	if len(ids) != len(refs) {
		return fmt.Errorf("ledger: record external IDs: %d IDs for %d items", len(ids), len(refs))
	}
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(ids))
	for i, id := range ids {
		args = append(args, id, batch+" "+refs[i])
	}
	if err := s.rdb.HSet(ctx, externalIDsKey(product), args...).Err(); err != nil {
		return fmt.Errorf("ledger: record external IDs: %w", err)
	}
	return nil
}

// ItemStates reads the states of items of a batch in one round trip, in order; an item that
// does not exist gets "".
func (s *Store) ItemStates(ctx context.Context, batch string, refs []string) ([]State, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(refs))
	for i, ref := range refs {
		cmds[i] = pipe.HGet(ctx, itemKey(batch, ref), fState)
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("ledger: item states: %w", err)
	}
	out := make([]State, len(refs))
	for i, c := range cmds {
		v, err := c.Result()
		if err != nil && err != redis.Nil {
			return nil, fmt.Errorf("ledger: item states: %w", err)
		}
		out[i] = State(v)
	}
	return out, nil
}
