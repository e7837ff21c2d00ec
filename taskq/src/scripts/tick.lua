--[[
  Handles one due tick of a schedule: makes its job (or none, for ticks
  missed under the `skip` policy) and moves the schedule to its next tick,
  only if the schedule still waits for the tick the caller read. Any number
  of workers may call it for the same tick at once: the first moves the
  schedule on, every other finds another score and changes nothing, so a
  tick makes one job at most. The job's idempotency key is made from the
  schedule's name and the tick, so a replay of a tick whose job still lives
  (after a failover that lost the move but kept the job) answers that job.

  Keys: every key it touches is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] schedules sorted set (name -> next tick, ms)
    KEYS[2] the schedule's hash
    KEYS[3] job hash (of the new job)
    KEYS[4] its queue list
    KEYS[5] its idempotency key
    KEYS[6] wake list
    KEYS[7] the queue's tombstone counter
    KEYS[8] the queue's push counter
    KEYS[9] the queue's set of scheduled jobs
    ARGV[1] schedule name
    ARGV[2] the due tick the caller read, ms (the schedule's score)
    ARGV[3] next tick, ms, or '+inf' when it never fires again
    ARGV[4] '1' to make a job, '0' to only move on (missed ticks skipped)
    ARGV[5] the tick the job is for, ms
    ARGV[6] the tick the job is for (RFC 3339)
    ARGV[7] job id
    ARGV[8] idem_ttl, seconds
    ARGV[9] task name
    ARGV[10] args (JSON)
    ARGV[11] queue name
    ARGV[12] now (RFC 3339)
    ARGV[13] timeout, seconds
    ARGV[14] MAX_QUEUED, 0 for no bound
    ARGV[15] 0 (the job runs at once: enqueue_job's run_at_ms)
    ARGV[16] '' (its run_at)
    ARGV[17] retry policy (JSON) or ''

  Output:
    {0}          the schedule no longer waits for this tick: nothing changed
    {1, id}      a job was made
    {2, id}      the tick's job already existed (its key is held)
    {3, n}       its queue is full (n jobs waiting): no job, moved on
    {4}          moved on without a job
]]
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return {0} end
local out = {4}
if ARGV[4] == '1' then
  local r = enqueue_job(KEYS, ARGV, 2, 6, ARGV[1], ARGV[6])
  if not r then
    out = {1, ARGV[7]}
  elseif type(r) == 'number' then
    out = {3, r}
  else
    out = {2, r}
  end
  if out[1] ~= 3 then redis.call('HSET', KEYS[2], 'last_tick', ARGV[5], 'last_job_id', out[2]) end
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return out
