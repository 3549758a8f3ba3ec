-- Helpers the stream scripts share; a script is this file followed by
-- its own.

-- now_ms is the server's time, so every node's publications expire by
-- one clock.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- field is the value of name among a stream entry's fields.
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then
      return fields[i + 1]
    end
  end
  return nil
end

-- drop_expired trims the oldest entries of stream whose expiry ("x", in
-- unix ms) has passed, stopping at the first that has not, as a channel
-- in memory does. With once it looks at one batch only: publishing then
-- costs little, and reading finishes the job.
local function drop_expired(stream, now, once)
  while true do
    local head = redis.call('XRANGE', stream, '-', '+', 'COUNT', 64)
    local last = nil
    local stopped = false
    for _, e in ipairs(head) do
      local x = field(e[2], 'x')
      if not x or tonumber(x) >= now then
        stopped = true
        break
      end
      last = e[1]
    end
    if last then
      -- Ids are OFFSET-0: OFFSET-1 is the least id above last.
      redis.call('XTRIM', stream, 'MINID', string.sub(last, 1, -2) .. '1')
    end
    if stopped or once or #head < 64 then
      return
    end
  end
end
