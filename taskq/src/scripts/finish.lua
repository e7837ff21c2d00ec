--[[
  Ends a job a worker ran, and claims the worker's next job in the same call,
  so that a busy worker costs one round trip per job.

  1. Remove the id from the worker's in-flight list. If it is not there the
     job was taken from this worker (its heartbeat lapsed and it was
     recovered): write nothing about it, so a job never ends twice.
  2. Write status, end time, result or error, last progress and meta; expire
     the hash after the retention TTL.
  3. Add the id to the registry of its queue and state (workers prune the
     registries of expired ids on their heartbeat, off this hot path).
  4. Release the idempotency key if it still names this job.
  5. Count the outcome in the current minute's counters.
  6. If a worker name is given, claim its next job (includes/take.lua).

  Input:
    KEYS[1] job hash
    KEYS[2] the worker's in-flight list
    KEYS[3] registry of ended jobs (queue, state)
    KEYS[4] idempotency key (the job hash itself when the job has none)
    KEYS[5] this minute's counters
    KEYS[6] job hash prefix
    KEYS[7] tombstone counter prefix
    KEYS[8..] queue lists, highest priority first (empty: claim nothing)
    ARGV[1] job id
    ARGV[2] final status: finished, failed or canceled
    ARGV[3] field written: result or error
    ARGV[4] its JSON value
    ARGV[5] now (RFC 3339)
    ARGV[6] now, ms since the epoch
    ARGV[7] retention TTL, seconds
    ARGV[8] last progress JSON, or '' to leave it
    ARGV[9] meta JSON, or '' to leave it
    ARGV[10] worker name for the next claim, or ''
    ARGV[11..] queue names, in the order of KEYS[8..]

  Output:
    {ended, next}  ended: 1 written, 0 stale (not this worker's any more);
                   next: the claimed job as fetch.lua returns it, or false
]]
local ended = 0
if redis.call('LREM', KEYS[2], -1, ARGV[1]) == 1 then
  ended = 1
  redis.call('HSET', KEYS[1], 'status', ARGV[2], 'ended_at', ARGV[5], ARGV[3], ARGV[4])
  if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[8]) end
  if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'meta', ARGV[9]) end
  redis.call('EXPIRE', KEYS[1], ARGV[7])
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
  if KEYS[4] ~= KEYS[1] and redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
  if redis.call('HINCRBY', KEYS[5], ARGV[2], 1) == 1 then redis.call('EXPIRE', KEYS[5], 7200) end
end
local next_job = false
if ARGV[10] ~= '' then
  next_job = take_first(8, 11, KEYS[2], KEYS[6], KEYS[7], ARGV[10], ARGV[5])
end
return {ended, next_job}
