-- Close a window (its end passed): no new orders may be created for it.
-- KEYS: window
-- ARGV: now
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'no_window', ''} end
if status ~= 'open' then return {'noop', status} end
redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_at', ARGV[1])
return {'applied', 'closed'}
