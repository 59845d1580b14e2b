-- Append reference prices to an asset's capped stream, oldest first. The entry id is
-- the price's own timestamp (ms), so replicas appending the same point add it once:
-- a point not newer than the stream's last entry is skipped.
-- KEYS: prices stream
-- ARGV: maxlen, then pairs of (timestamp_ms, price)
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = -1
if top[1] then last = tonumber(string.match(top[1][1], '^(%d+)')) end
local added = 0
for i = 2, #ARGV, 2 do
  local ts = tonumber(ARGV[i])
  if ts > last then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], ARGV[i] .. '-0', 'p', ARGV[i + 1])
    last = ts
    added = added + 1
  end
end
return {'appended', tostring(added)}
