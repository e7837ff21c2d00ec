--[[
  Writes a running job's progress and meta, if the job is still running on
  this worker (after a cancel, a timeout or a recovery, late writes are
  dropped so progress stops).

  Keys: every key it touches is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] job hash
    ARGV[1] worker name
    ARGV[2] progress JSON, or '' to leave it
    ARGV[3] meta JSON, or '' to leave it

  Output:
    1 written, 0 the job is not running here
]]
local f = redis.call('HMGET', KEYS[1], 'status', 'worker')
if (f[1] ~= 'started' and f[1] ~= 'cancel_requested') or f[2] ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'meta', ARGV[3]) end
return 1
