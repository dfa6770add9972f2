// Package ledger owns every Redis key of the payout ledger: batches, their items and counters.
//
// The ledger, not the queue, is the source of truth for a payout. Every state change of an item
// is a compare-and-set done in one Lua script together with the batch counters, so a replayed or
// duplicated task can neither count an item twice nor move it backwards.
//
// All keys of one batch share the hash tag {batchID}, so the scripts work on Redis Cluster.
package ledger

import "fmt"

// Prefix starts every key the ledger writes.
const Prefix = "payout:"

func metaKey(batch string) string      { return fmt.Sprintf("%s{%s}:meta", Prefix, batch) }
func countsKey(batch string) string    { return fmt.Sprintf("%s{%s}:counts", Prefix, batch) }
func orderKey(batch string) string     { return fmt.Sprintf("%s{%s}:order", Prefix, batch) }
func dueKey(batch string) string       { return fmt.Sprintf("%s{%s}:due", Prefix, batch) }
func itemKey(batch, ref string) string { return fmt.Sprintf("%s{%s}:item:%s", Prefix, batch, ref) }
func orphanKey(batch, task string, retried int) string {
	return fmt.Sprintf("%s{%s}:orphan:%s:%d", Prefix, batch, task, retried)
}
func lockKey(batch, ref string) string { return fmt.Sprintf("%s{%s}:lock:%s", Prefix, batch, ref) }
func itemPrefix(batch string) string   { return fmt.Sprintf("%s{%s}:item:", Prefix, batch) }
func batchesKey() string               { return Prefix + "batches" }
func fingerprintKey(fp string) string  { return Prefix + "fingerprint:" + fp }
func productPauseKey(p string) string  { return Prefix + "paused:" + p }
func countField(state State) string    { return "n:" + string(state) }
func amountField(state State, cur string) string {
	return "a:" + string(state) + ":" + cur
}
