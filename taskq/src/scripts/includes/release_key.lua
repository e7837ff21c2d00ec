--[[
  release_key(idem, id)

  Deletes idempotency key `idem` (as stored in a job hash's `idem` field;
  empty or nil when the job has none) if it still names job `id`: after a
  requeue another job may hold it, and that one keeps it.
]]
local function release_key(idem, id)
  if idem and idem ~= '' and redis.call('GET', idem) == id then redis.call('DEL', idem) end
end

