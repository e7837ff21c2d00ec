--[[
  Ends a batch of jobs one worker ran, and claims up to as many next jobs for
  it in the same call: a busy worker costs one round trip per batch, and the
  fixed cost of a script call is shared by the whole batch.

  For each job:
  1. Remove its id from the worker's in-flight list. If it is not there the
     job was taken from this worker (its heartbeat lapsed and it was
     recovered): write nothing about it, so a job never ends twice.
  2. Write status, end time, result or error, last progress and meta; expire
     the hash after the retention TTL.
  3. Add the id to the registry of its queue and state (workers prune the
     registries of expired ids on their heartbeat, off this hot path).
  4. Release the idempotency key if it still names this job.
  Then count the outcomes in the current minute's counters, and claim up to
  ARGV[3] next jobs (includes/take.lua).

  Keys: claimed jobs' hashes are KEYS[2] .. id, tombstone counters
  KEYS[3] .. queue name; every other key is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] the worker's in-flight list
    KEYS[2] job hash prefix
    KEYS[3] tombstone counter prefix
    KEYS[4] this minute's counters (kept 25 h: /stats reads up to 24 h back)
    KEYS[5 .. 4+Q] queue lists, highest priority first
    then, for job i of N: job hash, registry of ended jobs (queue, state),
         idempotency key (the job hash itself when the job has none)
    ARGV[1] Q, number of queues
    ARGV[2] N, number of jobs
    ARGV[3] jobs to claim
    ARGV[4] worker name
    ARGV[5] now (RFC 3339)
    ARGV[6] now, ms since the epoch
    ARGV[7 .. 6+Q] queue names, in the order of their keys
    then, for job i of N, 7 values: id, final status (finished, failed or
         canceled), field written (result or error), its JSON value,
         retention TTL in seconds, last progress JSON or '', meta JSON or ''

  Output:
    {ended_1 .. ended_N, claimed...}  ended_i: 1 written, 0 stale (not this
    worker's any more); then each claimed job as fetch.lua returns it
]]
local q, n, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local inflight, now = KEYS[1], ARGV[5]
local out = {}
local counts = {}
for i = 0, n - 1 do
  local k, a = 5 + q + 3 * i, 7 + q + 7 * i
  local id, status = ARGV[a], ARGV[a + 1]
  local ended = 0
  if redis.call('LREM', inflight, -1, id) == 1 then
    ended = 1
    local job = KEYS[k]
    local progress, meta = ARGV[a + 5], ARGV[a + 6]
    if progress == '' and meta == '' then
      redis.call('HSET', job, 'status', status, 'ended_at', now, ARGV[a + 2], ARGV[a + 3])
    else
      local f = {'status', status, 'ended_at', now, ARGV[a + 2], ARGV[a + 3]}
      if progress ~= '' then f[#f + 1] = 'progress'; f[#f + 1] = progress end
      if meta ~= '' then f[#f + 1] = 'meta'; f[#f + 1] = meta end
      redis.call('HSET', job, unpack(f))
    end
    redis.call('EXPIRE', job, ARGV[a + 4])
    redis.call('ZADD', KEYS[k + 1], ARGV[6], id)
    if KEYS[k + 2] ~= job then release_key(KEYS[k + 2], id) end
    counts[status] = (counts[status] or 0) + 1
  end
  out[#out + 1] = ended
end
for status, c in pairs(counts) do count(KEYS[4], status, c) end
-- Claim: each queue in priority order until `want` jobs or every queue is dry.
local qi = 1
while want > 0 and qi <= q do
  local job = take(KEYS[4 + qi], ARGV[6 + qi], inflight, KEYS[2], KEYS[3], ARGV[4], now)
  if job then
    out[#out + 1] = job
    want = want - 1
  else
    qi = qi + 1
  end
end
return out
