--[[
  Enqueues a job unless its idempotency key is held or its queue is full.

  0. If a bound is given and the queue holds that many waiting jobs (its
     length minus its tombstones: O(1)), and the key is not held, refuse:
     nothing is written. A held key still answers its job (step 2).
  1. SET the idempotency key to the new id, only if absent (NX), reading
     the previous holder (GET): check and claim are one step, so any number
     of identical concurrent requests create exactly one job. The key has
     no TTL: it lives as long as the job (queued, running), and every
     script that ends the job deletes it.
  2. If it was held, return the holder's id; nothing else is written.
  3. Else write the job hash (no `attempts`: absent means 0; no
     `enqueued_at`: absent means `created_at`, until a requeue writes it) and
     push the id on the left of its queue; its `seq` is the queue's push
     count after this push (see list_queued.lua).
  4. If the queue was empty, make sure a wake marker exists for idle
     workers. A push onto a non-empty queue needs none: whoever took the
     last marker runs the fetch script, which leaves a marker while jobs
     remain; idle workers also look again every second.

  Keys: every key it touches is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] job hash
    KEYS[2] queue list
    KEYS[3] idempotency key
    KEYS[4] wake list
    KEYS[5] the queue's tombstone counter
    KEYS[6] the queue's push counter
    ARGV[1] job id
    ARGV[2] the job's duration plus IDEMP_MARGIN, seconds (kept as idem_ttl)
    ARGV[3] task name
    ARGV[4] args (JSON)
    ARGV[5] queue name
    ARGV[6] now (RFC 3339)
    ARGV[7] timeout, seconds
    ARGV[8] most waiting jobs the queue may hold (MAX_QUEUED), 0 for no bound

  Output:
    nil             enqueued
    string          id of the job already holding the key (duplicate)
    integer         the queue is full: the number of jobs waiting in it
]]
local bound = tonumber(ARGV[8])
if bound > 0 then
  local waiting = redis.call('LLEN', KEYS[2]) - tonumber(redis.call('GET', KEYS[5]) or '0')
  if waiting >= bound and redis.call('EXISTS', KEYS[3]) == 0 then return waiting end
end
local holder = redis.call('SET', KEYS[3], ARGV[1], 'NX', 'GET')
if holder then return holder end
redis.call('HSET', KEYS[1], 'task', ARGV[3], 'args', ARGV[4], 'queue', ARGV[5], 'status', 'queued',
  'created_at', ARGV[6], 'timeout', ARGV[7], 'idem', KEYS[3], 'idem_ttl', ARGV[2], 'seq', redis.call('INCR', KEYS[6]))
if redis.call('LPUSH', KEYS[2], ARGV[1]) == 1 then wake(KEYS[4]) end
return false
