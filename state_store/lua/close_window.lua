-- Close a window (its end passed): no new orders may be created for it.
-- KEYS: window, unsettled, open_markets
-- ARGV: now, market
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'no_window', ''} end
if status ~= 'open' then
  redis.call('SREM', KEYS[3], ARGV[2])
  return {'noop', status}
end
redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_at', ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SREM', KEYS[3], ARGV[2])
return {'applied', 'closed'}
