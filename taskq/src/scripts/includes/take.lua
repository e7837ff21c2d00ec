--[[
  take(qkey, qname, inflight, job_prefix, tomb_prefix, worker, now)

  Moves ids from the right of queue list `qkey` to the left of `inflight`
  until one names a queued job, marks that job started by `worker` and returns
  {id, task, args, timeout, idem, queue, attempts, retry} (retry: the policy's
  JSON, or '' when the job is never retried). Ids of jobs canceled while
  queued (tombstones) are dropped and their queue's tombstone count lowered.
  Returns false when the queue holds no live job within 1000 ids; the caller
  tries again later, so the cost of one call stays bounded.
]]
local function take(qkey, qname, inflight, job_prefix, tomb_prefix, worker, now)
  for _ = 1, 1000 do
    local id = redis.call('LMOVE', qkey, inflight, 'RIGHT', 'LEFT')
    if not id then return false end
    local jkey = job_prefix .. id
    local f = redis.call('HMGET', jkey, 'status', 'task', 'args', 'timeout', 'idem', 'attempts', 'retry')
    if f[1] == 'queued' then
      local attempts = tonumber(f[6] or '0') + 1
      redis.call('HSET', jkey, 'status', 'started', 'started_at', now, 'worker', worker, 'attempts', attempts)
      return {id, f[2], f[3], f[4], f[5] or '', qname, attempts, f[7] or ''}
    end
    redis.call('LPOP', inflight)
    local tkey = tomb_prefix .. qname
    if tonumber(redis.call('GET', tkey) or '0') > 0 then redis.call('DECR', tkey) end
  end
  return false
end

-- Tries each queue in priority order; queue keys are KEYS[first..] and their
-- names ARGV[name_first..].
local function take_first(first, name_first, inflight, job_prefix, tomb_prefix, worker, now)
  local n = 0
  for i = first, #KEYS do
    local job = take(KEYS[i], ARGV[name_first + n], inflight, job_prefix, tomb_prefix, worker, now)
    if job then return job end
    n = n + 1
  end
  return false
end
