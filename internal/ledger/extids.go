package ledger

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// externalIDsKey indexes, per product, every external ID a file gave an enqueued item: field
// the external ID, value the items that carry it and may pay it, each "batch ref", separated
// by commas. MoMo does not deduplicate external IDs, so this is how a later file that pays the
// same rows again is caught. It is one hash per product, outside any batch's hash slot: it is
// only read and written in pipelines and its own script, never from a batch's scripts.
func externalIDsKey(product string) string { return Prefix + "extids:" + product }

// ExternalIDUse is an item that carries an external ID.
type ExternalIDUse struct {
	Batch string
	Ref   string
}

// ExternalIDHolders is what the index holds for one external ID: the items, and the value as
// stored, which SetExternalIDs expects when it replaces it.
type ExternalIDHolders struct {
	Items []ExternalIDUse
	Raw   string
}

// FormatExternalIDHolders is the index value naming items.
func FormatExternalIDHolders(items []ExternalIDUse) string {
	parts := make([]string, len(items))
	for i, u := range items {
		parts[i] = u.Batch + " " + u.Ref
	}
	return strings.Join(parts, ",")
}

func parseHolders(raw string) []ExternalIDUse {
	var out []ExternalIDUse
	for _, part := range strings.Split(raw, ",") {
		if b, r, ok := strings.Cut(part, " "); ok {
			out = append(out, ExternalIDUse{Batch: b, Ref: r})
		}
	}
	return out
}

// ExternalIDUses looks up external IDs of a product, in order; an ID never enqueued has no
// items.
func (s *Store) ExternalIDUses(ctx context.Context, product string, ids []string) ([]ExternalIDHolders, error) {
	out := make([]ExternalIDHolders, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	vals, err := s.rdb.HMGet(ctx, externalIDsKey(product), ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("ledger: look up external IDs: %w", err)
	}
	for i, v := range vals {
		raw, _ := v.(string)
		out[i] = ExternalIDHolders{Items: parseHolders(raw), Raw: raw}
	}
	return out, nil
}

// setExternalIDs replaces index values that are still what the caller read. KEYS: index.
// ARGV: pairs of ID and new value, then as many expected values ("" for none). An empty new
// value deletes the field. Returns the positions (from 0) that had changed meanwhile.
var setExternalIDs = redis.NewScript(`
local n = #ARGV / 3
local out = {}
for i = 0, n - 1 do
  local id, val, exp = ARGV[1 + 2 * i], ARGV[2 + 2 * i], ARGV[1 + 2 * n + i]
  local cur = redis.call('HGET', KEYS[1], id) or ''
  if cur == exp then
    if val == '' then redis.call('HDEL', KEYS[1], id) else redis.call('HSET', KEYS[1], id, val) end
  else
    out[#out + 1] = i
  end
end
return out
`)

// SetExternalIDs sets the index value of each external ID ids[i] to vals[i], only where it is
// still expect[i] (the Raw that ExternalIDUses returned). It returns the positions where it
// was not, which the caller reads and judges again.
func (s *Store) SetExternalIDs(ctx context.Context, product string, ids, vals, expect []string) ([]int, error) {
	if len(ids) != len(vals) || len(ids) != len(expect) {
		return nil, fmt.Errorf("ledger: set external IDs: %d IDs, %d values, %d expected",
			len(ids), len(vals), len(expect))
	}
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 3*len(ids))
	for i, id := range ids {
		args = append(args, id, vals[i])
	}
	for _, e := range expect {
		args = append(args, e)
	}
	res, err := setExternalIDs.Run(ctx, s.rdb, []string{externalIDsKey(product)}, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("ledger: set external IDs: %w", err)
	}
	out := make([]int, len(res))
	for i, v := range res {
		out[i] = int(v)
	}
	return out, nil
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
