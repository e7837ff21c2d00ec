--[[
  Pauses or resumes a schedule. Paused, it waits at +inf and makes no job;
  resumed, it goes on from its next tick after now (ticks that passed while
  it was paused make no job).

  Keys: every key it touches is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] the schedule's hash
    KEYS[2] schedules sorted set
    ARGV[1] name
    ARGV[2] '1' to pause, '0' to resume
    ARGV[3] next tick after now, ms, or '+inf' (for a resume)

  Output:
    1  done
    0  no such schedule
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'paused', ARGV[2])
if ARGV[2] == '1' then
  redis.call('ZADD', KEYS[2], '+inf', ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
return 1
