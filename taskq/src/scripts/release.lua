--[[
  Gives a running job back to its queue when its worker stops before the job
  ends (graceful shutdown). The id goes to the right end of the queue, so it
  is the next one taken, its `seq` set for that place (see list_queued.lua);
  the interrupted run does not count as an attempt.

  Keys: every key it touches is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] job hash
    KEYS[2] the worker's in-flight list
    KEYS[3] the job's queue list
    KEYS[4] wake list
    KEYS[5] the queue's push counter
    ARGV[1] job id

  Output:
    1   requeued
    0   not this worker's any more: nothing changed
    -1  its cancellation was requested: the caller ends it as canceled
]]
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'cancel_requested' then return -1 end
if status ~= 'started' then return 0 end
if redis.call('LREM', KEYS[2], -1, ARGV[1]) == 0 then return 0 end
local len = redis.call('RPUSH', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'queued', 'seq', tonumber(redis.call('GET', KEYS[5]) or '0') - len + 1)
redis.call('HDEL', KEYS[1], 'started_at', 'worker')
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
wake(KEYS[4])
return 1
