-- Adopt an order found at the venue that Redis does not know (its create was lost:
-- an empty or older Redis after a restart or failover). Not fenced: the order
-- already exists at the venue. Idempotent: a known client order id or a venue
-- order id already mapped to an order changes nothing.
-- KEYS: order, pending, pending_market, orders_market, venue_orders
-- ARGV: coid, market, strategy, intent_key, outcome, token_id, side,
--       price, size, order_type, venue_order_id, status, now
local existing = redis.call('HGET', KEYS[1], 'status')
if existing then return {'exists', existing} end
local known = redis.call('HGET', KEYS[5], ARGV[11])
if known then return {'known', known} end
redis.call('HSET', KEYS[1],
  'client_order_id', ARGV[1], 'market', ARGV[2], 'strategy', ARGV[3],
  'intent_key', ARGV[4], 'outcome', ARGV[5], 'token_id', ARGV[6],
  'side', ARGV[7], 'price', ARGV[8], 'size', ARGV[9], 'order_type', ARGV[10],
  'venue_order_id', ARGV[11], 'replica', '', 'fence', '0',
  'status', ARGV[12], 'filled', '0', 'error', 'adopted from the venue',
  'created_at', ARGV[13], 'updated_at', ARGV[13])
if not is_terminal(ARGV[12]) then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[1])
end
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[5], ARGV[11], ARGV[1])
return {'created', ARGV[12]}
