package ledger

import "github.com/redis/go-redis/v9"

// NOTE: amounts are handed to HINCRBY as strings, never as Lua numbers: Lua numbers are doubles
// and would round minor-unit sums past 2^53.

// createItem adds an item unless the batch already has one for that line, in which case it
// returns the existing reference ID: enqueueing the same batch again yields the same IDs.
//
// KEYS: order, counts, item, due. ARGV: line, ref, minor, currency, due, field/value pairs...
var createItem = redis.NewScript(`
local found = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1], 'LIMIT', 0, 1)
if #found > 0 then return {0, found[1]} end
redis.call('HSET', KEYS[3], unpack(ARGV, 6))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], 'n:VALIDATED', 1)
redis.call('HINCRBY', KEYS[2], 'a:VALIDATED:' .. ARGV[4], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[2])
return {1, ARGV[2]}
`)

// transition moves an item from one of the allowed states to another, keeping the batch
// counters in step, and records the given fields. It returns {applied, previous state}; applied
// is -1 when the item does not exist.
//
// KEYS: item, counts, due. ARGV: from (comma list), to, now ms, due ms ("" keeps, "0" removes),
// increment attempts ("1"/"0"), ref, field/value pairs...
var transition = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'st')
if not cur then return {-1, ''} end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do
  if s == cur then allowed = true end
end
if not allowed then return {0, cur} end
local to = ARGV[2]
if to ~= cur then
  local h = redis.call('HMGET', KEYS[1], 'cur', 'min')
  redis.call('HINCRBY', KEYS[2], 'n:' .. cur, -1)
  redis.call('HINCRBY', KEYS[2], 'n:' .. to, 1)
  redis.call('HINCRBY', KEYS[2], 'a:' .. cur .. ':' .. h[1], '-' .. h[2])
  redis.call('HINCRBY', KEYS[2], 'a:' .. to .. ':' .. h[1], h[2])
  redis.call('HSET', KEYS[1], 'st', to)
end
redis.call('HSET', KEYS[1], 'uat', ARGV[3])
if ARGV[5] == '1' then redis.call('HINCRBY', KEYS[1], 'att', 1) end
if #ARGV > 6 then redis.call('HSET', KEYS[1], unpack(ARGV, 7)) end
if ARGV[4] == '0' then
  redis.call('ZREM', KEYS[3], ARGV[6])
elseif ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[6])
end
return {1, cur}
`)

// claimPoll lets a status poll with sequence number ARGV[1] proceed only while the item is
// SUBMITTED and no later poll has been scheduled: an older poll chain, left by a retry or a
// sweep, ends here. KEYS: item.
var claimPoll = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'st', 'poll')
if h[1] ~= 'SUBMITTED' then return 0 end
local seq = tonumber(ARGV[1])
if seq < (tonumber(h[2]) or 0) then return 0 end
redis.call('HSET', KEYS[1], 'poll', ARGV[1])
return 1
`)

// advancePoll records that poll ARGV[1] is scheduled (never moving the sequence backwards) and
// when the item is next due. KEYS: item, due. ARGV: seq, due ms, ref.
var advancePoll = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'poll')) or 0
if tonumber(ARGV[1]) > cur then redis.call('HSET', KEYS[1], 'poll', ARGV[1]) end
if redis.call('HGET', KEYS[1], 'st') == 'SUBMITTED' then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
end
return 1
`)

// unlock deletes a lock only if the caller still owns it. KEYS: lock. ARGV: owner token.
var unlock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// extendLock renews a lock's TTL if the caller still owns it. KEYS: lock. ARGV: owner, ttl ms.
var extendLock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// rateCount counts one use of a per-second window. KEYS: window. Returns the count.
var rateCount = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], 2000) end
return n
`)

// createBatch writes a batch's metadata unless it exists. KEYS: meta. ARGV: field/value pairs.
var createBatch = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`)

// commitBatch records a loading batch's row counts and opens it, if it holds exactly the
// accepted number of items and, when a lock is given, the caller still holds it. KEYS: meta,
// order[, lock]. ARGV: rows, accepted, rejected[, lock token]. Returns 1 when committed, 0 when
// the batch was open already (or cancelled while loading), -1 when it does not exist, -2 when
// its item count differs, -3 when the lock is not the caller's, -4 when it is being discarded.
var commitBatch = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return -1 end
if KEYS[3] and redis.call('GET', KEYS[3]) ~= ARGV[4] then return -3 end
if st == 'discarding' then return -4 end
if st ~= 'loading' then return 0 end
if redis.call('ZCARD', KEYS[2]) ~= tonumber(ARGV[2]) then return -2 end
redis.call('HSET', KEYS[1], 'rows', ARGV[1], 'acc', ARGV[2], 'rej', ARGV[3], 'status', 'ready')
return 1
`)

// markDiscarding claims a loading batch (or one whose deletion stopped half-way) for deletion.
// KEYS: meta. Returns 1 when claimed.
var markDiscarding = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if st ~= 'loading' and st ~= 'discarding' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'discarding')
return 1
`)

// setBatchStatus moves a batch between statuses. KEYS: meta. ARGV: from (comma list), to,
// reason. Returns the previous status, or "" when the move was not allowed.
var setBatchStatus = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return '' end
for s in string.gmatch(ARGV[1], '[^,]+') do
  if s == cur then
    redis.call('HSET', KEYS[1], 'status', ARGV[2], 'reason', ARGV[3])
    return cur
  end
end
return ''
`)

// setIfExists sets one field of a hash that exists. KEYS: hash. ARGV: field, value.
var setIfExists = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)
