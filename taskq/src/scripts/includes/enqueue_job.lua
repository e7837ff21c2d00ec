--[[
  enqueue_job(K, A, k, a, schedule, tick)

  Enqueues a job unless its idempotency key is held or its queue is full;
  the steps of enqueue.lua, shared with tick.lua (a schedule's job).

  K[k+1..k+7]  key names: the job hash, its queue list, the idempotency
               key, the wake list, the queue's tombstone and push counters,
               the queue's set of scheduled jobs (enqueue.lua's KEYS[1..7]).
  A[a+1..a+11] values: id, idem_ttl, task, args, queue, now, timeout,
               bound, run_at_ms, run_at, retry (enqueue.lua's ARGV[1..11]).
               run_at_ms 0 puts the job on its queue at once (callers send
               0 for a time not ahead); retry is the policy's JSON or ''.
               The last three may be absent (nil): a job for now with no
               retry policy; so may the scheduled set, read only when the
               job is scheduled.
  schedule     the name of the schedule that makes the job, or ''; tick the
               schedule's tick it is made for (RFC 3339).
  The caller's KEYS and ARGV are read in place, by offset: no table is
  built per call (enqueue is the hottest script after finish).

  0. If a bound is given and the queue holds that many waiting jobs (its
     length minus its tombstones: O(1)), and the key is not held, refuse:
     nothing is written. A held key still answers its job (step 2).
  1. SET the idempotency key to the new id, only if absent (NX), reading
     the previous holder (GET): check and claim are one step, so any number
     of identical concurrent requests create exactly one job. The key has
     no TTL: it lives as long as the job (scheduled, queued, retrying,
     running), and every script that ends the job deletes it.
  2. If it was held, return the holder's id; nothing else is written.
  3. Else write the job hash (no `attempts`: absent means 0; no
     `enqueued_at`: absent means `created_at`, until a requeue writes it).
     A job with a time ahead is `scheduled`: its id goes in the queue's
     scheduled set by due time (promote.lua moves it when due). Else its id
     is pushed on the left of its queue; its `seq` is the queue's push count
     after this push (see list_queued.lua).
  4. If the queue was empty, make sure a wake marker exists for idle
     workers. A push onto a non-empty queue needs none: whoever took the
     last marker runs the fetch script, which leaves a marker while jobs
     remain; idle workers also look again every second.

  Returns nil (enqueued), the holder's id (duplicate), or the number of
  jobs waiting in the full queue.
]]
local function enqueue_job(K, A, k, a, schedule, tick)
  local job, queue, idem, wake_list, tomb, pushed, waiting_set =
    K[k + 1], K[k + 2], K[k + 3], K[k + 4], K[k + 5], K[k + 6], K[k + 7]
  local bound = tonumber(A[a + 8])
  if bound > 0 then
    local waiting = redis.call('LLEN', queue) - tonumber(redis.call('GET', tomb) or '0')
    if waiting >= bound and redis.call('EXISTS', idem) == 0 then return waiting end
  end
  local id = A[a + 1]
  local holder = redis.call('SET', idem, id, 'NX', 'GET')
  if holder then return holder end
  local run_at_ms = tonumber(A[a + 9] or '0')
  local scheduled = run_at_ms > 0
  -- One HSET: the last two fields are run_at (scheduled) or seq (queued).
  local last, value = 'run_at', A[a + 10]
  if not scheduled then last, value = 'seq', redis.call('INCR', pushed) end
  redis.call('HSET', job, 'task', A[a + 3], 'args', A[a + 4], 'queue', A[a + 5],
    'status', scheduled and 'scheduled' or 'queued', 'created_at', A[a + 6], 'timeout', A[a + 7],
    'idem', idem, 'idem_ttl', A[a + 2], last, value)
  local retry = A[a + 11]
  if retry and retry ~= '' then redis.call('HSET', job, 'retry', retry) end
  if schedule ~= '' then redis.call('HSET', job, 'schedule', schedule, 'tick', tick) end
  if scheduled then
    redis.call('ZADD', waiting_set, run_at_ms, id)
    return false
  end
  if redis.call('LPUSH', queue, id) == 1 then wake(wake_list) end
  return false
end
