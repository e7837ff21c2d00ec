--[[
  Claims the next job for an idle worker slot.

  1. Take the first live id from the queues in priority order into the
     worker's in-flight list and mark the job started (see includes/take.lua).
  2. If jobs remain queued, leave a wake marker so another idle worker
     (blocked on the wake list) looks too.

  Keys: job hashes are KEYS[2] .. id, tombstone counters KEYS[3] .. queue
  name; every other key is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] the worker's in-flight list
    KEYS[2] job hash prefix (job keys are this plus an id)
    KEYS[3] tombstone counter prefix (plus a queue name)
    KEYS[4] wake list
    KEYS[5..] queue lists, highest priority first
    ARGV[1] worker name
    ARGV[2] now (RFC 3339)
    ARGV[3..] queue names, in the order of KEYS[5..]

  Output:
    nil                                                      every queue is empty
    {id, task, args, timeout, idem, queue, attempts, retry}  the claimed job
]]
local job = take_first(5, 3, KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
for i = 5, #KEYS do
  if redis.call('LLEN', KEYS[i]) > 0 then
    wake(KEYS[4])
    break
  end
end
return job
