--[[
  Ends a batch of jobs one worker ran, and claims up to as many next jobs for
  it in the same call: a busy worker costs one round trip per batch, and the
  fixed cost of a script call is shared by the whole batch.

  For each job:
  1. Remove its id from the worker's in-flight list. If it is not there the
     job was taken from this worker (its heartbeat lapsed and it was
     recovered): write nothing about it, so a job never ends twice.
  2. Write status, end time, result or error, last progress and meta; expire
     the hash after the retention TTL. A job that did not fail drops the
     `error` an earlier attempt left (it stays in `errors`).
  3. Add the id to the registry of its queue and state (workers prune the
     registries of expired ids on their heartbeat, off this hot path).
  4. Release the idempotency key if it still names this job.
  A job whose attempt failed and that is retried (status `retrying`) does
  not end: it gets status retrying, `run_at` (its next attempt's time), its
  `error` (this attempt's), this error appended to its `errors` list (the
  latest MAX_ATTEMPT_ERRORS kept), last progress and meta; no end time, no
  expiry. Its id goes in its queue's retrying set by due time (promote.lua
  moves it back to its queue then); it keeps its idempotency key. If its
  cancellation was requested meanwhile (status cancel_requested), it is not
  retried: it ends canceled (registry KEYS[5] .. queue .. ':canceled').
  Then count the outcomes in the current minute's counters (a retried
  attempt as `retried`), and claim up to ARGV[3] next jobs (includes/take.lua).

  Keys: claimed jobs' hashes are KEYS[2] .. id, tombstone counters
  KEYS[3] .. queue name, the registry of a retried job canceled meanwhile
  KEYS[5] .. queue .. ':canceled'; every other key is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] the worker's in-flight list
    KEYS[2] job hash prefix
    KEYS[3] tombstone counter prefix
    KEYS[4] this minute's counters (kept 25 h: /stats reads up to 24 h back)
    KEYS[5] registry-of-ended-jobs prefix (plus '<queue>:<state>')
    KEYS[6 .. 5+Q] queue lists, highest priority first
    then, for job i of N: job hash, registry of ended jobs (queue, state)
         or, for a retried job, its queue's set of retrying jobs,
         idempotency key (the job hash itself when the job has none)
    ARGV[1] Q, number of queues
    ARGV[2] N, number of jobs
    ARGV[3] jobs to claim
    ARGV[4] worker name
    ARGV[5] now (RFC 3339)
    ARGV[6] now, ms since the epoch
    ARGV[7 .. 6+Q] queue names, in the order of their keys
    then, for job i of N, 9 values: id, status (finished, failed,
         canceled, or retrying), field written (result or error), its JSON
         value, retention TTL in seconds (for retrying: of a canceled job),
         last progress JSON or '', meta JSON or '', and for retrying the
         next attempt's time in ms and in RFC 3339; for other ends 1 when an
         earlier attempt ran (its `error` is cleared unless this end is a
         failure) or 0, and ''

  Output:
    {ended_1 .. ended_N, claimed...}  ended_i: 1 written, 0 stale (not this
    worker's any more); then each claimed job as fetch.lua returns it
]]
local MAX_ATTEMPT_ERRORS = 10
local q, n, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local inflight, now = KEYS[1], ARGV[5]
local out = {}
local counts = {}

-- The job's `errors` list (JSON) with this attempt's error appended, the
-- latest MAX_ATTEMPT_ERRORS kept. A stored value that is not a list is
-- replaced: it is history, not state.
local function errors_with(job, error_json)
  local f = redis.call('HMGET', job, 'errors', 'attempts')
  local ok, list = pcall(cjson.decode, f[1] or '[]')
  if not ok or type(list) ~= 'table' then list = {} end
  local ok2, e = pcall(cjson.decode, error_json)
  if not ok2 or type(e) ~= 'table' then e = {type = 'error', message = tostring(error_json)} end
  list[#list + 1] = {attempt = tonumber(f[2] or '0'), at = now, type = e.type, message = e.message}
  local kept = {}
  for j = math.max(1, #list - MAX_ATTEMPT_ERRORS + 1), #list do kept[#kept + 1] = list[j] end
  return cjson.encode(kept)
end

-- Writes an end: status, end time, `field` = `value`, progress and meta.
local function write_end(job, status, field, value, progress, meta)
  if progress == '' and meta == '' then
    redis.call('HSET', job, 'status', status, 'ended_at', now, field, value)
    return
  end
  local f = {'status', status, 'ended_at', now, field, value}
  if progress ~= '' then f[#f + 1] = 'progress'; f[#f + 1] = progress end
  if meta ~= '' then f[#f + 1] = 'meta'; f[#f + 1] = meta end
  redis.call('HSET', job, unpack(f))
end

for i = 0, n - 1 do
  local k, a = 6 + q + 3 * i, 7 + q + 9 * i
  local id, status = ARGV[a], ARGV[a + 1]
  local ended = 0
  if redis.call('LREM', inflight, -1, id) == 1 then
    ended = 1
    local job, registry = KEYS[k], KEYS[k + 1]
    local progress, meta = ARGV[a + 5], ARGV[a + 6]
    if status == 'retrying' then
      local now_status = redis.call('HMGET', job, 'status', 'queue')
      if now_status[1] == 'cancel_requested' then
        status = 'canceled'
        write_end(job, status, 'result', 'null', progress, meta)
        redis.call('HDEL', job, 'error')
        registry = KEYS[5] .. now_status[2] .. ':canceled'
      else
        local f = {'status', 'retrying', 'run_at', ARGV[a + 8], 'error', ARGV[a + 3],
          'errors', errors_with(job, ARGV[a + 3])}
        if progress ~= '' then f[#f + 1] = 'progress'; f[#f + 1] = progress end
        if meta ~= '' then f[#f + 1] = 'meta'; f[#f + 1] = meta end
        redis.call('HSET', job, unpack(f))
        redis.call('ZADD', registry, ARGV[a + 7], id)
        counts['retried'] = (counts['retried'] or 0) + 1
      end
    else
      write_end(job, status, ARGV[a + 2], ARGV[a + 3], progress, meta)
      -- An earlier attempt's error is history (in `errors`) once it ends otherwise.
      if status ~= 'failed' and ARGV[a + 7] == '1' then redis.call('HDEL', job, 'error') end
    end
    if status ~= 'retrying' then
      redis.call('EXPIRE', job, ARGV[a + 4])
      redis.call('ZADD', registry, ARGV[6], id)
      if KEYS[k + 2] ~= job then release_key(KEYS[k + 2], id) end
      counts[status] = (counts[status] or 0) + 1
    end
  end
  out[#out + 1] = ended
end
for status, c in pairs(counts) do count(KEYS[4], status, c) end
-- Claim: each queue in priority order until `want` jobs or every queue is dry.
local qi = 1
while want > 0 and qi <= q do
  local job = take(KEYS[5 + qi], ARGV[6 + qi], inflight, KEYS[2], KEYS[3], ARGV[4], now)
  if job then
    out[#out + 1] = job
    want = want - 1
  else
    qi = qi + 1
  end
end
return out
