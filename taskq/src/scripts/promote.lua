--[[
  Moves due scheduled and retrying jobs onto their queues, at most ARGV[3]
  in all per call.

  For each queue and each of its two waiting sets, the ids due by now
  (ZRANGE BYSCORE, LIMIT what is left of the batch): each is removed from
  its set; if its job is still scheduled or retrying it becomes queued
  (enqueued_at now, a new `seq`, no `run_at`) and goes on the left of its
  queue, behind the jobs already there. Ids whose job is gone or in another
  state (canceled meanwhile) are only dropped from the set. If anything
  moved, a wake marker is left for idle workers. Cost: O(log N + batch) per
  set, never a scan.

  Keys: job hashes are KEYS[2] .. id; every other key is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] wake list
    KEYS[2] job hash prefix
    then, for each queue, 4 keys: its scheduled set, its retrying set, its
         list, its push counter
    ARGV[1] now, ms since the epoch
    ARGV[2] now (RFC 3339)
    ARGV[3] most jobs to move

  Output:
    the number of jobs moved
]]
local left = tonumber(ARGV[3])
local moved = 0
for qk = 3, #KEYS, 4 do
  local list, pushed = KEYS[qk + 2], KEYS[qk + 3]
  for s = 0, 1 do
    if left <= 0 then break end
    local set = KEYS[qk + s]
    local ids = redis.call('ZRANGE', set, '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, left)
    for _, id in ipairs(ids) do
      redis.call('ZREM', set, id)
      left = left - 1
      local jkey = KEYS[2] .. id
      local status = redis.call('HGET', jkey, 'status')
      if status == 'scheduled' or status == 'retrying' then
        redis.call('HSET', jkey, 'status', 'queued', 'enqueued_at', ARGV[2], 'seq', redis.call('INCR', pushed))
        redis.call('HDEL', jkey, 'run_at')
        redis.call('LPUSH', list, id)
        moved = moved + 1
      end
    end
  end
end
if moved > 0 then wake(KEYS[1]) end
return moved
