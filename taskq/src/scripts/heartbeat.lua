--[[
  Records a worker's heartbeat and lists workers whose heartbeat lapsed.
  Times come from the Redis server's clock, so workers on machines with
  different clocks agree.

  1. Note whether the worker was still registered (a worker that finds it
     was not, after its first beat, was declared dead and its jobs recovered).
  2. Set its score to now and write its description fields.
  3. Return up to 16 workers silent for longer than the lapse.

  Input:
    KEYS[1] workers sorted set
    KEYS[2] the worker's description hash
    ARGV[1] worker name
    ARGV[2] lapse, ms
    ARGV[3..] description field, value, field, value...

  Output:
    {registered, {dead worker names}}  registered: 1 or 0
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local registered = redis.call('ZSCORE', KEYS[1], ARGV[1]) and 1 or 0
redis.call('ZADD', KEYS[1], now, ARGV[1])
if #ARGV > 2 then redis.call('HSET', KEYS[2], unpack(ARGV, 3)) end
redis.call('HSET', KEYS[2], 'heartbeat_ms', now)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0, 16)
return {registered, dead}
