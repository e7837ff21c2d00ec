--[[
  Moves a scheduled or retrying job to another time, or onto its queue now.

  - run now (ARGV[2] is 0): it leaves its set and becomes queued as
    promote.lua does it: enqueued_at now, a new `seq`, no `run_at`, on the
    left (the back) of its queue list; a wake marker is left.
  - a later time: its score in its set and its `run_at` become that time;
    it keeps its state.
  - any other state: nothing changes.

  Keys: the job's set is KEYS[2] .. queue .. ':' .. state, its queue list
  KEYS[3] .. queue, its push counter KEYS[4] .. queue; the rest is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] job hash
    KEYS[2] waiting-set prefix (plus '<queue>:<state>')
    KEYS[3] queue list prefix (plus a queue name)
    KEYS[4] push counter prefix (plus a queue name)
    KEYS[5] wake list
    ARGV[1] job id
    ARGV[2] when it runs, ms since the epoch; 0 for now
    ARGV[3] when it runs (RFC 3339), or '' for now
    ARGV[4] now (RFC 3339)

  Output:
    false                 the job does not exist
    {1, 'queued', ''}     it is on its queue now
    {2, status, run_at}   it waits in status (scheduled or retrying) until run_at
    {0, status, ''}       it is not scheduled or retrying; nothing changed
]]
local f = redis.call('HMGET', KEYS[1], 'status', 'queue')
local status, queue = f[1], f[2]
if not status then return false end
if status ~= 'scheduled' and status ~= 'retrying' then return {0, status, ''} end
local set = KEYS[2] .. queue .. ':' .. status
if ARGV[2] == '0' then
  redis.call('ZREM', set, ARGV[1])
  redis.call('HSET', KEYS[1], 'status', 'queued', 'enqueued_at', ARGV[4],
    'seq', redis.call('INCR', KEYS[4] .. queue))
  redis.call('HDEL', KEYS[1], 'run_at')
  redis.call('LPUSH', KEYS[3] .. queue, ARGV[1])
  wake(KEYS[5])
  return {1, 'queued', ''}
end
-- The state was checked, so the id is in its set: this only changes its
-- score (and puts it back should it be missing, rather than strand the job).
redis.call('ZADD', set, ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], 'run_at', ARGV[3])
return {2, status, ARGV[3]}
