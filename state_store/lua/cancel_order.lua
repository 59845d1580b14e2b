-- End an order that is not yet terminal: cancelled (by us or the venue) or
-- expired (its window closed). A terminal order stays as it is.
-- KEYS: order, pending, pending_market
-- ARGV: coid, reason ('cancelled' | 'expired'), error, now
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'unknown_order', ''} end
if is_terminal(status) then return {'noop', status} end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'error', ARGV[3], 'updated_at', ARGV[4])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
return {'applied', ARGV[2]}
