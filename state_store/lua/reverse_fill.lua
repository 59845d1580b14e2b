-- Reverse the fill of a venue trade that FAILED (after MATCHED or RETRYING): the
-- order's filled size and the market position (shares, cash, notional, fees, fill
-- count, a settled position's payout and realized PnL) go back to what they were
-- without it. Idempotent by fill id: a reversed fill is never reversed or applied
-- again. A fill never applied is recorded as failed (a tombstone), so a late
-- MATCHED report of the same trade does not apply it afterwards.
-- The amounts undone are the ones the fill record kept when it was applied.
-- KEYS: fill, order, position, pending, pending_market, window, unconfirmed_fills,
--       strategy positions (the order's strategy's shares and buy notional, for its limits)
-- ARGV: fill_id, coid, market, outcome, side, price, size_micro, notional_micro,
--       ts, venue_order_id, fee_micro, now
redis.call('SREM', KEYS[7], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'fill_id', ARGV[1], 'client_order_id', ARGV[2],
    'market', ARGV[3], 'outcome', ARGV[4], 'side', ARGV[5], 'price', ARGV[6],
    'size', fmt(tonumber(ARGV[7])), 'ts', ARGV[9], 'venue_order_id', ARGV[10],
    'fee', fmt(tonumber(ARGV[11]) or 0), 'trade_status', 'FAILED', 'applied', '0',
    'reversed_at', ARGV[12])
  return {'recorded', 'never applied'}
end
local fill = redis.call('HMGET', KEYS[1], 'trade_status', 'applied', 'size', 'notional', 'fee',
  'side', 'outcome', 'client_order_id')
if fill[1] == 'FAILED' then return {'duplicate', ''} end
if fill[2] == '0' then return {'duplicate', ''} end
local size, fee = to_micro(fill[3]), to_micro(fill[5])
local notional = tonumber(ARGV[8])
if fill[4] then notional = to_micro(fill[4]) end
local side, outcome = fill[6], fill[7]

local order = redis.call('HMGET', KEYS[2], 'status', 'size', 'filled')
if order[1] then
  local filled = to_micro(order[3]) - size
  if filled < 0 then filled = 0 end
  local status = order[1]
  if status == 'filled' then
    status = 'cancelled'  -- the venue holds it as matched: it will not rest again
    redis.call('HSET', KEYS[2], 'error', 'trade failed at the venue: fill reversed')
  elseif status == 'partially_filled' and filled == 0 then
    status = 'live'
  end
  redis.call('HSET', KEYS[2], 'filled', fmt(filled), 'status', status, 'updated_at', ARGV[12])
end

local share_field = 'up_shares'
if outcome == 'Down' then share_field = 'down_shares' end
local pos = redis.call('HMGET', KEYS[3], share_field, 'cash', 'buy_notional', 'sell_notional',
  'fill_count', 'fees')
local shares, cash = to_micro(pos[1]), to_micro(pos[2]) + fee
local bought, sold = to_micro(pos[3]), to_micro(pos[4])
if side == 'BUY' then
  shares = shares - size; cash = cash + notional; bought = bought - notional
else
  shares = shares + size; cash = cash - notional; sold = sold - notional
end
redis.call('HSET', KEYS[3], share_field, fmt(shares), 'cash', fmt(cash),
  'buy_notional', fmt(bought), 'sell_notional', fmt(sold), 'fees', fmt(to_micro(pos[6]) - fee),
  'fill_count', math.max((tonumber(pos[5]) or 0) - 1, 0), 'updated_at', ARGV[12])
reprice_settlement(KEYS[3], KEYS[6])
strategy_fill(KEYS[8], KEYS[2], outcome, side, size, notional, -1)
redis.call('HSET', KEYS[1], 'trade_status', 'FAILED', 'reversed_at', ARGV[12])
return {'reversed', order[1] or ''}
