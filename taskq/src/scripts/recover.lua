--[[
  Recovers the jobs of a dead worker, a bounded batch per call; the caller
  repeats until it reports done.

  For each id popped from the dead worker's in-flight list:
  - started, attempts below the limit (MAX_ATTEMPTS, or the attempts its
    retry policy allows when that is more): back to the right end of its queue
    (next to run), status queued, its `seq` set for that place (see
    list_queued.lua);
  - started, attempts at the limit: fails with error type 'abandoned';
  - cancel_requested: ends canceled;
  - anything else (ended, or expired): dropped.
  Ended jobs release their idempotency key. When the list is empty the worker
  is removed from the workers set and its description deleted.

  First, the worker's heartbeat is checked again on the liveness clock (see
  heartbeat.lua): a worker that beat since it was found dead (between two
  batches, or after an outage) keeps its jobs, and nothing changes.

  Keys: job hashes are KEYS[4] .. id, queue lists KEYS[5] .. queue,
  registries KEYS[6] .. queue .. ':' .. state, push counters KEYS[10] .. queue,
  idempotency keys those the jobs' `idem` fields name (written by enqueue from
  its KEYS); the rest is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] the dead worker's in-flight list
    KEYS[2] workers sorted set
    KEYS[3] the dead worker's description hash
    KEYS[4] job hash prefix (plus an id)
    KEYS[5] queue list prefix (plus a queue name)
    KEYS[6] registry-of-ended-jobs prefix (plus '<queue>:<state>')
    KEYS[7] wake list
    KEYS[8] this minute's counters (kept 25 h: /stats reads up to 24 h back)
    KEYS[9] liveness clock hash
    KEYS[10] push counter prefix (plus a queue name)
    ARGV[1] dead worker name
    ARGV[2] now (RFC 3339)
    ARGV[3] now, ms
    ARGV[4] max attempts
    ARGV[5] failure TTL, seconds
    ARGV[6] result TTL, seconds
    ARGV[7] batch size
    ARGV[8] error JSON for abandoned jobs
    ARGV[9] lapse, ms

  Output:
    {requeued, failed, canceled, done}  done: 1 when the worker is gone,
                                        2 when it is alive (nothing done)
]]
local beat = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]) or '-1')
local up = tonumber(redis.call('HGET', KEYS[9], 'up') or '0')
if beat > up - tonumber(ARGV[9]) then return {0, 0, 0, 2} end
local requeued, failed, canceled = 0, 0, 0
for _ = 1, tonumber(ARGV[7]) do
  local id = redis.call('RPOP', KEYS[1])
  if not id then
    redis.call('ZREM', KEYS[2], ARGV[1])
    redis.call('DEL', KEYS[3])
    return {requeued, failed, canceled, 1}
  end
  local jkey = KEYS[4] .. id
  local f = redis.call('HMGET', jkey, 'status', 'queue', 'attempts', 'idem', 'retry')
  local status, queue = f[1], f[2]
  local limit = tonumber(ARGV[4])
  if f[5] then
    local ok, policy = pcall(cjson.decode, f[5])
    if ok and type(policy) == 'table' and tonumber(policy.max) then limit = math.max(limit, policy.max + 1) end
  end
  local ended = nil
  if status == 'started' and tonumber(f[3] or '0') < limit then
    local len = redis.call('RPUSH', KEYS[5] .. queue, id)
    local pushed = tonumber(redis.call('GET', KEYS[10] .. queue) or '0')
    redis.call('HSET', jkey, 'status', 'queued', 'seq', pushed - len + 1)
    redis.call('HDEL', jkey, 'started_at', 'worker')
    wake(KEYS[7])
    requeued = requeued + 1
  elseif status == 'started' then
    redis.call('HSET', jkey, 'status', 'failed', 'ended_at', ARGV[2], 'error', ARGV[8])
    redis.call('EXPIRE', jkey, ARGV[5])
    count(KEYS[8], 'failed', 1)
    ended = 'failed'
    failed = failed + 1
  elseif status == 'cancel_requested' then
    redis.call('HSET', jkey, 'status', 'canceled', 'ended_at', ARGV[2])
    redis.call('EXPIRE', jkey, ARGV[6])
    ended = 'canceled'
    canceled = canceled + 1
  end
  if ended then
    redis.call('ZADD', KEYS[6] .. queue .. ':' .. ended, ARGV[3], id)
    release_key(f[4], id)
  end
end
return {requeued, failed, canceled, 0}
