-- Apply one fill: the order's filled size and the market position move in
-- one step. Idempotent by fill id: a replayed fill changes nothing but may move
-- its trade status forward (MATCHED -> MINED -> CONFIRMED); a FAILED trade is
-- reversed by reverse_fill.lua, which leaves a record so it is never applied again.
-- A fill that arrives after its window was settled (late venue report,
-- reconciliation, journal replay) re-prices the settlement in the same step.
-- KEYS: fill, order, position, pending, pending_market, window, unconfirmed_fills,
--       strategy positions (the order's strategy's shares and buy notional, for its limits)
-- ARGV: fill_id, coid, market, outcome, side, price, size_micro,
--       notional_micro, ts, venue_order_id, fee_micro, trade_status
-- The fee is paid in cash: the position's cash (hence its realized PnL) is net of
-- fees, and its `fees` field sums them.
local trade_status = ARGV[12] or ''
if redis.call('EXISTS', KEYS[1]) == 1 then
  local known = redis.call('HGET', KEYS[1], 'trade_status') or ''
  if trade_status ~= 'FAILED' and trade_rank(trade_status) > trade_rank(known)
      and known ~= 'CONFIRMED' and known ~= 'FAILED' then
    redis.call('HSET', KEYS[1], 'trade_status', trade_status)
    if trade_status == 'CONFIRMED' then
      redis.call('SREM', KEYS[7], ARGV[1])
    else
      redis.call('SADD', KEYS[7], ARGV[1])
    end
    return {'duplicate', trade_status}
  end
  return {'duplicate', ''}
end
local order = redis.call('HMGET', KEYS[2], 'status', 'size', 'filled', 'market', 'outcome', 'side')
local status = order[1]
if not status then return {'unknown_order', ''} end
if order[4] ~= ARGV[3] or order[5] ~= ARGV[4] or order[6] ~= ARGV[5] then
  return {'mismatch', order[4] .. '/' .. order[5] .. '/' .. order[6]}
end

local size = tonumber(ARGV[7])
local notional = tonumber(ARGV[8])
local filled = to_micro(order[3]) + size
local new_status = status
if filled >= to_micro(order[2]) then
  new_status = 'filled'
elseif not is_terminal(status) then
  new_status = 'partially_filled'
end
redis.call('HSET', KEYS[2], 'filled', fmt(filled), 'status', new_status, 'updated_at', ARGV[9])
if ARGV[10] ~= '' then redis.call('HSET', KEYS[2], 'venue_order_id', ARGV[10]) end
if is_terminal(new_status) then
  redis.call('SREM', KEYS[4], ARGV[2])
  redis.call('SREM', KEYS[5], ARGV[2])
end

local share_field = 'up_shares'
if ARGV[4] == 'Down' then share_field = 'down_shares' end
local fee = tonumber(ARGV[11]) or 0
local pos = redis.call('HMGET', KEYS[3], share_field, 'cash', 'buy_notional', 'sell_notional',
  'fill_count', 'fees')
local shares, cash = to_micro(pos[1]), to_micro(pos[2]) - fee
local bought, sold = to_micro(pos[3]), to_micro(pos[4])
if ARGV[5] == 'BUY' then
  shares = shares + size; cash = cash - notional; bought = bought + notional
else
  shares = shares - size; cash = cash + notional; sold = sold + notional
end
redis.call('HSET', KEYS[3], 'market', ARGV[3], share_field, fmt(shares), 'cash', fmt(cash),
  'buy_notional', fmt(bought), 'sell_notional', fmt(sold), 'fees', fmt(to_micro(pos[6]) + fee),
  'fill_count', (tonumber(pos[5]) or 0) + 1, 'updated_at', ARGV[9])
reprice_settlement(KEYS[3], KEYS[6])
strategy_fill(KEYS[8], KEYS[2], ARGV[4], ARGV[5], size, notional, 1)

redis.call('HSET', KEYS[1], 'fill_id', ARGV[1], 'client_order_id', ARGV[2], 'market', ARGV[3],
  'outcome', ARGV[4], 'side', ARGV[5], 'price', ARGV[6], 'size', fmt(size),
  'notional', fmt(notional), 'ts', ARGV[9], 'venue_order_id', ARGV[10], 'fee', fmt(fee),
  'trade_status', trade_status)
if trade_status ~= '' and trade_status ~= 'CONFIRMED' then
  redis.call('SADD', KEYS[7], ARGV[1])
end
return {'applied', new_status}
