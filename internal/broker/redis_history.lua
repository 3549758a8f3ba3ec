-- History: the channel's position and its kept publications, expired
-- ones trimmed first.
-- KEYS[1] the channel's meta hash, KEYS[2] its stream
-- ARGV[1] the first entry id to return ('-' for the oldest)
-- ARGV[2] how many at most (0: all)
-- Returns {offset, epoch, entries}; offset 0 and epoch '' when the
-- channel has no stream.
local pos = redis.call('HMGET', KEYS[1], 'o', 'e')
if not pos[2] then
  return {0, '', {}}
end
drop_expired(KEYS[2], now_ms(), false)
local entries
if tonumber(ARGV[2]) > 0 then
  entries = redis.call('XRANGE', KEYS[2], ARGV[1], '+', 'COUNT', ARGV[2])
else
  entries = redis.call('XRANGE', KEYS[2], ARGV[1], '+')
end
return {tonumber(pos[1]) or 0, pos[2], entries}
