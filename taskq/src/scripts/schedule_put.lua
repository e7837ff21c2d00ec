--[[
  Creates or replaces a schedule: its definition, and its next tick. A
  replaced schedule keeps its creation time, its paused state and its last
  job; a new one is refused when the prefix already holds the most
  schedules allowed.

  Keys: every key it touches is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] the schedule's hash
    KEYS[2] schedules sorted set (name -> next tick, ms; +inf while paused)
    ARGV[1] name
    ARGV[2] definition (JSON)
    ARGV[3] now (RFC 3339)
    ARGV[4] next tick, ms, or '+inf'
    ARGV[5] most schedules allowed

  Output:
    1   created
    0   replaced
    -1  refused: too many schedules; nothing written
]]
local exists = redis.call('EXISTS', KEYS[1]) == 1
if not exists and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return -1 end
if exists then
  redis.call('HSET', KEYS[1], 'spec', ARGV[2], 'updated_at', ARGV[3])
else
  redis.call('HSET', KEYS[1], 'spec', ARGV[2], 'updated_at', ARGV[3], 'created_at', ARGV[3], 'paused', '0')
end
if redis.call('HGET', KEYS[1], 'paused') == '1' then
  redis.call('ZADD', KEYS[2], '+inf', ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
end
if exists then return 0 end
return 1
