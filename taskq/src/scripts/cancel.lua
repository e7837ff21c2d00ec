--[[
  Cancels a job.

  - scheduled or retrying: it leaves its waiting set and ends canceled at
    once, as a queued job does (it is in no queue list: no tombstone).
  - queued: it ends canceled at once and will never run. Its id stays in the
    queue list (removing it would scan the queue); the queue's tombstone count
    goes up so counts stay exact, and the worker that meets the id drops it.
  - started: status becomes cancel_requested and the id is published on the
    cancel channel; the running worker fires the job's cancellation token.
  - cancel_requested: published again (the worker may have missed it).
  - ended: nothing changes.

  Keys: the registry is KEYS[2] .. queue .. ':canceled', the tombstone
  counter KEYS[3] .. queue, the waiting set KEYS[4] .. queue .. ':' .. state,
  the idempotency key the one the job's `idem` field names (written by
  enqueue from its KEYS); the rest is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] job hash
    KEYS[2] registry-of-ended-jobs prefix (plus '<queue>:canceled')
    KEYS[3] tombstone counter prefix (plus a queue name)
    KEYS[4] waiting-set prefix (plus '<queue>:<state>')
    ARGV[1] job id
    ARGV[2] now (RFC 3339)
    ARGV[3] now, ms
    ARGV[4] retention TTL, seconds
    ARGV[5] cancel channel

  Output:
    false                      the job does not exist
    {1, 'canceled'}            it was queued, scheduled or retrying and is canceled
    {1, 'cancel_requested'}    it is running and was asked to stop
    {0, status}                it had already ended (finished, failed, canceled)
]]
local f = redis.call('HMGET', KEYS[1], 'status', 'queue', 'idem')
local status = f[1]
if not status then return false end
if status == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'canceled', 'ended_at', ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  redis.call('ZADD', KEYS[2] .. f[2] .. ':canceled', ARGV[3], ARGV[1])
  redis.call('INCR', KEYS[3] .. f[2])
  release_key(f[3], ARGV[1])
  return {1, 'canceled'}
end
if status == 'scheduled' or status == 'retrying' then
  redis.call('ZREM', KEYS[4] .. f[2] .. ':' .. status, ARGV[1])
  redis.call('HSET', KEYS[1], 'status', 'canceled', 'ended_at', ARGV[2])
  redis.call('HDEL', KEYS[1], 'run_at')
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  redis.call('ZADD', KEYS[2] .. f[2] .. ':canceled', ARGV[3], ARGV[1])
  release_key(f[3], ARGV[1])
  return {1, 'canceled'}
end
if status == 'started' or status == 'cancel_requested' then
  redis.call('HSET', KEYS[1], 'status', 'cancel_requested')
  redis.call('PUBLISH', ARGV[5], ARGV[1])
  return {1, 'cancel_requested'}
end
return {0, status}
