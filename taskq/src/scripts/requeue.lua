--[[
  Puts a failed or canceled job back on its queue, as new: attempts,
  result, error, earlier attempts' errors, progress, times of the last run
  and any due time are cleared; meta and the retry policy are kept.
  The job takes its idempotency key again if no other job holds it. It goes
  on the left of its queue with a new `seq` (see list_queued.lua): a copy of
  its id left in the list by a cancel (a tombstone) no longer matches it.

  Keys: the registry is KEYS[2] .. queue .. ':' .. state, the queue list
  KEYS[3] .. queue, the push counter KEYS[5] .. queue, the idempotency key the
  one the job's `idem` field names (written by enqueue from its KEYS); the
  rest is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] job hash
    KEYS[2] registry-of-ended-jobs prefix (plus '<queue>:<state>')
    KEYS[3] queue list prefix (plus a queue name)
    KEYS[4] wake list
    KEYS[5] push counter prefix (plus a queue name)
    ARGV[1] job id
    ARGV[2] now (RFC 3339)

  Output:
    false          the job does not exist
    {1, 'queued'}  requeued
    {0, status}    it is not failed or canceled; nothing changed
]]
local f = redis.call('HMGET', KEYS[1], 'status', 'queue', 'idem')
local status = f[1]
if not status then return false end
if status ~= 'failed' and status ~= 'canceled' then return {0, status} end
redis.call('ZREM', KEYS[2] .. f[2] .. ':' .. status, ARGV[1])
redis.call('HDEL', KEYS[1], 'started_at', 'ended_at', 'result', 'error', 'progress', 'worker', 'errors',
  'run_at')
redis.call('HSET', KEYS[1], 'status', 'queued', 'enqueued_at', ARGV[2], 'attempts', 0,
  'seq', redis.call('INCR', KEYS[5] .. f[2]))
redis.call('PERSIST', KEYS[1])
if f[3] and f[3] ~= '' then redis.call('SET', f[3], ARGV[1], 'NX') end
redis.call('LPUSH', KEYS[3] .. f[2], ARGV[1])
wake(KEYS[4])
return {1, 'queued'}
