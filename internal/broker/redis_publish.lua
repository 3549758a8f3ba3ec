-- Publish: number the record, keep it, and send it to the channel's
-- subscribers, in one step no other publish to the channel can split.
-- KEYS[1] the channel's meta hash (o: newest offset, e: epoch)
-- KEYS[2] its stream
-- ARGV[1] its pub/sub topic
-- ARGV[2] the record, encoded without offset and epoch
-- ARGV[3] history size (0 keeps none)
-- ARGV[4] history TTL in ms (0: until pushed out)
-- ARGV[5] meta TTL in ms
-- ARGV[6] the epoch to start with if the channel has none
-- Returns {offset, epoch}.
local meta, stream = KEYS[1], KEYS[2]
local size, ttl, meta_ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])

local epoch = redis.call('HGET', meta, 'e')
if not epoch then
  -- A new stream, or one forgotten after its meta TTL: whatever is left
  -- of an older one has offsets this one will hand out again.
  epoch = ARGV[6]
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'e', epoch)
end
local top = redis.call('HINCRBY', meta, 'o', 1)
redis.call('PEXPIRE', meta, meta_ttl)

if size > 0 then
  local id = string.format('%d-0', top)
  if ttl > 0 then
    local now = now_ms()
    redis.call('XADD', stream, 'MAXLEN', size, id, 'r', ARGV[2], 'x', string.format('%d', now + ttl))
    drop_expired(stream, now, true)
    -- The stream lives as long as its longest-lived entry.
    if redis.call('PTTL', stream) < math.min(ttl, meta_ttl) then
      redis.call('PEXPIRE', stream, math.min(ttl, meta_ttl))
    end
  else
    redis.call('XADD', stream, 'MAXLEN', size, id, 'r', ARGV[2])
    redis.call('PEXPIRE', stream, meta_ttl)
  end
else
  redis.call('DEL', stream)
end

redis.call('PUBLISH', ARGV[1], 'p' .. string.format('%d', top) .. ',' .. epoch .. ',' .. ARGV[2])
return {top, epoch}
