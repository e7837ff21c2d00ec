--[[
  enqueue_job(k, a)

  Enqueues a job unless its idempotency key is held or its queue is full;
  the steps of enqueue.lua, shared with tick.lua (a schedule's job).

  k: key names  {job, queue, idem, wake, tomb, pushed, scheduled}: the job
     hash, its queue list, the idempotency key, the wake list, the queue's
     tombstone and push counters, the queue's set of scheduled jobs.
  a: values     {id, idem_ttl, task, args, queue, now, timeout, bound,
     run_at_ms, run_at, retry, schedule}: run_at_ms 0 (or not after now_ms)
     puts the job on its queue at once; retry is the policy's JSON or '';
     schedule the name of the schedule that makes it, or ''; tick (optional)
     the schedule's tick it is made for (RFC 3339).

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
local function enqueue_job(k, a)
  local bound = tonumber(a.bound)
  if bound > 0 then
    local waiting = redis.call('LLEN', k.queue) - tonumber(redis.call('GET', k.tomb) or '0')
    if waiting >= bound and redis.call('EXISTS', k.idem) == 0 then return waiting end
  end
  local holder = redis.call('SET', k.idem, a.id, 'NX', 'GET')
  if holder then return holder end
  local run_at_ms = tonumber(a.run_at_ms)
  local scheduled = run_at_ms > 0
  -- One HSET: the last two fields are run_at (scheduled) or seq (queued).
  local last, value = 'run_at', a.run_at
  if not scheduled then last, value = 'seq', redis.call('INCR', k.pushed) end
  redis.call('HSET', k.job, 'task', a.task, 'args', a.args, 'queue', a.queue,
    'status', scheduled and 'scheduled' or 'queued', 'created_at', a.now, 'timeout', a.timeout,
    'idem', k.idem, 'idem_ttl', a.idem_ttl, last, value)
  if a.retry ~= '' then redis.call('HSET', k.job, 'retry', a.retry) end
  if a.schedule ~= '' then redis.call('HSET', k.job, 'schedule', a.schedule, 'tick', a.tick) end
  if scheduled then
    redis.call('ZADD', k.scheduled, run_at_ms, a.id)
    return false
  end
  if redis.call('LPUSH', k.queue, a.id) == 1 then wake(k.wake) end
  return false
end
