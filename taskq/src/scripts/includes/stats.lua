--[[
  count(stats_key, field, n)

  Adds `n` to `field` of this minute's counters hash `stats_key`, which the
  first count of the minute sets to expire after STATS_TTL: 25 h, longer
  than /stats looks back (24 h).
]]
local STATS_TTL = 90000

local function count(stats_key, field, n)
  if redis.call('HINCRBY', stats_key, field, n) == n then redis.call('EXPIRE', stats_key, STATS_TTL) end
end

