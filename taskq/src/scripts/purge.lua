--[[
  Purges up to a batch of ids from the right (oldest end) of a queue: each
  queued job among them ends canceled and its idempotency key is released;
  tombstones are dropped. The client calls it until the queue's length at the
  start of the purge has been popped, so one call's cost stays bounded.

  Keys: job hashes are KEYS[3] .. id, idempotency keys those their `idem`
  fields name (written by enqueue from its KEYS); the rest is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] queue list
    KEYS[2] the queue's tombstone counter
    KEYS[3] job hash prefix (plus an id)
    KEYS[4] the queue's registry of canceled jobs
    ARGV[1] now (RFC 3339)
    ARGV[2] now, ms
    ARGV[3] retention TTL, seconds
    ARGV[4] batch size

  Output:
    {popped, purged}  ids taken from the list, of which live jobs canceled
]]
local ids = redis.call('RPOP', KEYS[1], ARGV[4])
if not ids then return {0, 0} end
local purged = 0
for _, id in ipairs(ids) do
  local jkey = KEYS[3] .. id
  local f = redis.call('HMGET', jkey, 'status', 'idem')
  if f[1] == 'queued' then
    purged = purged + 1
    redis.call('HSET', jkey, 'status', 'canceled', 'ended_at', ARGV[1])
    redis.call('EXPIRE', jkey, ARGV[3])
    redis.call('ZADD', KEYS[4], ARGV[2], id)
    release_key(f[2], id)
  elseif tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then
    redis.call('DECR', KEYS[2])
  end
end
return {#ids, purged}
