-- Record what the venue said about an order: submitted, live, rejected.
-- Moves forward only, so a replayed or late acknowledgement changes nothing.
-- With a lease (KEYS[5], ARGV[6] = '<replica>|<token>'), the move is fenced like
-- create_order: a replica that lost the market cannot mark an order submitted
-- (and so will not post it).
-- KEYS: order, pending, pending_market, venue_orders[, lease]
-- ARGV: coid, status, venue_order_id, error, now[, lease value]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'unknown_order', ''} end
if KEYS[5] and redis.call('GET', KEYS[5]) ~= ARGV[6] then
  return {'fenced', status}
end
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
