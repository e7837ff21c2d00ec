--[[
  Records a worker's heartbeat and lists workers whose heartbeat lapsed.

  Staleness is judged on a liveness clock kept in Redis, not on the wall
  clock: the clock's `up` field advances by the time since the previous beat
  of any worker, unless that gap is longer than two beat intervals. While
  Redis is stopped, paused, restarting or failing over nobody beats, so the
  clock stands still over the gap; when Redis serves again every worker has
  three beats of clock to show it is alive before it counts as dead. Times
  come from the Redis server's clock (TIME), so workers on machines with
  different clocks agree; a server clock that jumps (failover to a node
  with another clock) moves the liveness clock by at most two intervals.

  1. Advance the clock.
  2. Note whether the worker was still registered (a worker that finds it
     was not, after its first beat, was declared dead and its jobs recovered).
  3. Set its score to the clock and write its description fields (with
     heartbeat_ms, the server's wall time).
  4. Return up to 16 workers silent for longer than the lapse, on the clock.

  Keys: every key it touches is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] workers sorted set (scores on the liveness clock)
    KEYS[2] the worker's description hash
    KEYS[3] liveness clock hash (fields last: wall ms of the last beat,
            up: the clock, ms)
    ARGV[1] worker name
    ARGV[2] lapse, ms
    ARGV[3] beat interval, ms
    ARGV[4..] description field, value, field, value...

  Output:
    {registered, {dead worker names}}  registered: 1 or 0
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local c = redis.call('HMGET', KEYS[3], 'last', 'up')
local last, up = tonumber(c[1] or now), tonumber(c[2] or now)
local gap = now - last
if gap > 0 and gap <= 2 * tonumber(ARGV[3]) then up = up + gap end
redis.call('HSET', KEYS[3], 'last', now, 'up', up)
local registered = redis.call('ZSCORE', KEYS[1], ARGV[1]) and 1 or 0
redis.call('ZADD', KEYS[1], up, ARGV[1])
if #ARGV > 3 then redis.call('HSET', KEYS[2], unpack(ARGV, 4)) end
redis.call('HSET', KEYS[2], 'heartbeat_ms', now)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', up - tonumber(ARGV[2]), 'LIMIT', 0, 16)
return {registered, dead}
