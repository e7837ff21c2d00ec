--[[
  wake(wake_key)

  Leaves a wake marker on list `wake_key` unless one is there: an idle worker
  blocked on that list looks at the queues. One marker is enough, so the list
  never grows past one.
]]
local function wake(wake_key)
  if redis.call('LLEN', wake_key) == 0 then redis.call('LPUSH', wake_key, 1) end
end

