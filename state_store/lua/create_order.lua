-- Create an order from an intent. Idempotent by client order id; fenced.
-- KEYS: order, pending, pending_market, orders_market, lease, window, venue_orders
-- ARGV: coid, market, strategy, intent_key, outcome, token_id, side,
--       price, size, order_type, venue_order_id, replica, fence, now
local existing = redis.call('HGET', KEYS[1], 'status')
if existing then return {'exists', existing} end
-- the same venue order id (same signed body) already adopted under another id after a
-- data loss: it is this very order; do not make a second record of it
if ARGV[11] ~= '' then
  local adopted = redis.call('HGET', KEYS[7], ARGV[11])
  if adopted and adopted ~= ARGV[1] then return {'exists', 'adopted:' .. adopted} end
end

local lease = redis.call('GET', KEYS[5])
local want = ARGV[12] .. '|' .. ARGV[13]
if lease ~= want then
  return {'fenced', lease or ''}
end

local wstatus = redis.call('HGET', KEYS[6], 'status')
if not wstatus then return {'no_window', ''} end
if wstatus ~= 'open' then return {'window_' .. wstatus, ''} end

redis.call('HSET', KEYS[1],
  'client_order_id', ARGV[1], 'market', ARGV[2], 'strategy', ARGV[3],
  'intent_key', ARGV[4], 'outcome', ARGV[5], 'token_id', ARGV[6],
  'side', ARGV[7], 'price', ARGV[8], 'size', ARGV[9], 'order_type', ARGV[10],
  'venue_order_id', ARGV[11], 'replica', ARGV[12], 'fence', ARGV[13],
  'status', 'new', 'filled', '0', 'error', '',
  'created_at', ARGV[14], 'updated_at', ARGV[14])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
if ARGV[11] ~= '' then redis.call('HSET', KEYS[7], ARGV[11], ARGV[1]) end
return {'created', 'new'}
