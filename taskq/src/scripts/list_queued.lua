--[[
  Reads one page of a queue's live ids, newest first, at a cost that does not
  depend on the backlog. Changes nothing.

  Places: every id pushed on the left of a queue list raises the queue's push
  counter, and its job's `seq` is the counter after that push; an id put back
  on the right (recovery, release) gets `seq` = counter - length + 1. Ids only
  leave the list on the right (fetch, purge), so the id at index i from the
  left always has seq = counter - i, whatever was pushed or taken since: a
  cursor holds the seq of the last id a page looked at, and the next page
  starts at index counter - seq + 1.

  1. Read ids from that index (0 for the first page) until `want` are live,
     or `budget` ids were looked at, or the list ends.
  2. An id is live when its job is queued and its `seq` is the one of this
     place: a copy left by a cancel (a tombstone) of a job requeued since
     sits at an old place and is skipped, so each job is listed once.

  Keys: job hashes are KEYS[3] .. id; every other key is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] queue list
    KEYS[2] the queue's push counter
    KEYS[3] job hash prefix (plus an id)
    ARGV[1] seq of the last id the previous page looked at, or '' for the first page
    ARGV[2] want: live ids wanted
    ARGV[3] budget: most ids looked at

  Output:
    {live ids, seq of the last id looked at or false, 1 if ids remain past it else 0}
]]
local pushed = tonumber(redis.call('GET', KEYS[2]) or '0')
local len = redis.call('LLEN', KEYS[1])
local at = 0
if ARGV[1] ~= '' then at = math.max(0, pushed - tonumber(ARGV[1]) + 1) end
local want, budget = tonumber(ARGV[2]), tonumber(ARGV[3])
local live, last = {}, false
while #live < want and budget > 0 and at < len do
  local n = math.min(want - #live, budget)
  local ids = redis.call('LRANGE', KEYS[1], at, at + n - 1)
  if #ids == 0 then break end
  for i, id in ipairs(ids) do
    local seq = pushed - (at + i - 1)
    local f = redis.call('HMGET', KEYS[3] .. id, 'status', 'seq')
    if f[1] == 'queued' and (not f[2] or tonumber(f[2]) == seq) then live[#live + 1] = id end
    last = seq
  end
  at = at + #ids
  budget = budget - #ids
end
return {live, last, at < len and 1 or 0}
