--[[
  Moves due scheduled and retrying jobs onto their queues: at most a batch
  of ids in all, queue by queue in priority order, soonest due first within
  each set. For each due id: it leaves its set; if its job is still
  scheduled or retrying it becomes queued (enqueued_at now, a new `seq`, no
  `run_at`) and goes on the left of its queue list, the back of the queue,
  behind the jobs already waiting there (its queue is its priority). An id
  whose job is gone or in another state is only dropped from the set. A wake
  marker is left when anything moved.

  Cost: one ZRANGE BYSCORE ... LIMIT per set, O(log N + batch) in all, and a
  few O(1) calls per id moved; never a scan of a set. The script is atomic:
  whichever caller comes first moves a job, once, and a caller that dies
  during the call cannot leave a job half moved.

  Keys: job hashes are KEYS[2] .. id; every other key is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] wake list
    KEYS[2] job hash prefix (plus an id)
    then, for queue i of Q (priority order), 4 keys from KEYS[3 + 4 * (i - 1)]:
         its set of scheduled jobs, its set of retrying jobs, its queue list,
         its push counter
    ARGV[1] now, ms since the epoch: jobs due at or before it move
    ARGV[2] now (RFC 3339)
    ARGV[3] batch: most ids taken from the sets in all

  Output:
    integer  the number of jobs moved onto their queues
]]
local now_ms, now, left = ARGV[1], ARGV[2], tonumber(ARGV[3])
local moved = 0
local k = 3
while left > 0 and k + 3 <= #KEYS do
  local queue, pushed = KEYS[k + 2], KEYS[k + 3]
  for s = k, k + 1 do
    if left <= 0 then break end
    local ids = redis.call('ZRANGE', KEYS[s], '-inf', now_ms, 'BYSCORE', 'LIMIT', 0, left)
    left = left - #ids
    for _, id in ipairs(ids) do
      redis.call('ZREM', KEYS[s], id)
      local jkey = KEYS[2] .. id
      local status = redis.call('HGET', jkey, 'status')
      if status == 'scheduled' or status == 'retrying' then
        redis.call('HSET', jkey, 'status', 'queued', 'enqueued_at', now, 'seq', redis.call('INCR', pushed))
        redis.call('HDEL', jkey, 'run_at')
        redis.call('LPUSH', queue, id)
        moved = moved + 1
      end
    end
  end
  k = k + 4
end
if moved > 0 then wake(KEYS[1]) end
return moved
