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

// claimExternalIDs records external IDs for a batch's items unless another batch's item holds
// them: a field is set when it is absent, already the batch's own (a rewrite of the batch), or
// exactly the value the caller expects (a holder the caller judged stale or harmless). KEYS:
// index. ARGV: batch, then triples of ID, value, expected value. Returns, for each ID not set,
// its position (from 0) and the value found.
var claimExternalIDs = redis.NewScript(`
local own = ARGV[1] .. ' '
local out = {}
local n = (#ARGV - 1) / 3
for i = 0, n - 1 do
  local id, val, exp = ARGV[2 + 3 * i], ARGV[3 + 3 * i], ARGV[4 + 3 * i]
  local cur = redis.call('HGET', KEYS[1], id)
  if (not cur) or cur == exp or string.sub(cur, 1, #own) == own then
    redis.call('HSET', KEYS[1], id, val)
  else
    out[#out + 1] = i
    out[#out + 1] = cur
  end
end
return out
`)

// ClaimExternalIDs records, atomically per ID, that the items refs of batch carry the external
// IDs ids (same order), except where the index names another batch's item, other than the one
// in expect (same order; "" expects none). It returns the positions it did not record, with the
// item each names: the caller judges them and may claim again expecting that item.
func (s *Store) ClaimExternalIDs(ctx context.Context, product, batch string, ids, refs,
	expect []string) (map[int]ExternalIDUse, error) {
	if len(ids) != len(refs) || len(ids) != len(expect) {
		return nil, fmt.Errorf("ledger: claim external IDs: %d IDs, %d items, %d expected",
			len(ids), len(refs), len(expect))
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 1+3*len(ids))
	args = append(args, batch)
	for i, id := range ids {
		args = append(args, id, batch+" "+refs[i], expect[i])
	}
	res, err := claimExternalIDs.Run(ctx, s.rdb, []string{externalIDsKey(product)}, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("ledger: claim external IDs: %w", err)
	}
	out := map[int]ExternalIDUse{}
	for i := 0; i+1 < len(res); i += 2 {
		pos, _ := res[i].(int64)
		val, _ := res[i+1].(string)
		b, r, _ := strings.Cut(val, " ")
		out[int(pos)] = ExternalIDUse{Batch: b, Ref: r}
	}
	return out, nil
}

// Value is how the index spells a use, for ClaimExternalIDs' expect.
func (u ExternalIDUse) Value() string {
	if u.Batch == "" {
		return ""
	}
	return u.Batch + " " + u.Ref
}

// LockHeld reports whether the lock named name of batch is held (see Lock).
func (s *Store) LockHeld(ctx context.Context, batch, name string) (bool, error) {
	n, err := s.rdb.Exists(ctx, lockKey(batch, name)).Result()
	if err != nil {
		return false, fmt.Errorf("ledger: read lock: %w", err)
	}
	return n == 1, nil
}

// ReleaseFingerprint undoes ClaimFingerprint for a batch that was not written after all: the
// claim is deleted only if batch holds it.
func (s *Store) ReleaseFingerprint(ctx context.Context, fingerprint, batch string) error {
	if err := unlock.Run(ctx, s.rdb, []string{fingerprintKey(fingerprint)}, batch).Err(); err != nil {
		return fmt.Errorf("ledger: release fingerprint: %w", err)
	}
	return nil
}
