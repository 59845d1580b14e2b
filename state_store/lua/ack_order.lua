-- Record what the venue said about an order: submitted, live, rejected.
-- Moves forward only, so a replayed or late acknowledgement changes nothing.
-- KEYS: order, pending, pending_market, venue_orders
-- ARGV: coid, status, venue_order_id, error, now
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'unknown_order', ''} end
local target = ARGV[2]
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'venue_order_id', ARGV[3])
  redis.call('HSET', KEYS[4], ARGV[3], ARGV[1])
end
if RANK[status] >= RANK[target] or is_terminal(status) then
  return {'noop', status}
end
if target == 'rejected' and RANK[status] > RANK['submitted'] then
  return {'noop', status}
end
redis.call('HSET', KEYS[1], 'status', target, 'error', ARGV[4], 'updated_at', ARGV[5])
if is_terminal(target) then
  redis.call('SREM', KEYS[2], ARGV[1])
  redis.call('SREM', KEYS[3], ARGV[1])
end
return {'applied', target}
