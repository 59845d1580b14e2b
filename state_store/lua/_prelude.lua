-- Shared helpers, prepended to every neverblink script.
-- Amounts are exact integers of micro-units (1e-6) while a script works on
-- them; hashes keep readable decimal strings ("12.5", "-3.25").
local function to_micro(s)
  if s == false or s == nil or s == '' then return 0 end
  local neg = false
  if string.sub(s, 1, 1) == '-' then neg = true; s = string.sub(s, 2) end
  local ip, fp = string.match(s, '^(%d*)%.?(%d*)$')
  if ip == nil then error('bad amount ' .. s) end
  fp = string.sub(fp .. '000000', 1, 6)
  local v = (tonumber(ip) or 0) * 1000000 + (tonumber(fp) or 0)
  if neg then v = -v end
  return v
end

local function fmt(v)
  local neg = v < 0
  if neg then v = -v end
  local ip = math.floor(v / 1000000)
  local fp = math.floor(v - ip * 1000000)
  local s = string.format('%d', ip)
  if fp > 0 then
    s = s .. '.' .. string.gsub(string.format('%06d', fp), '0+$', '')
  end
  if neg then s = '-' .. s end
  return s
end

local RANK = {new = 0, submitted = 1, live = 2, partially_filled = 3,
              filled = 4, cancelled = 4, rejected = 4, expired = 4}

local function is_terminal(status)
  return RANK[status] == 4
end

-- A venue trade's settlement status only moves forward: MATCHED -> MINED | RETRYING ->
-- CONFIRMED | FAILED. '' (the venue did not say) ranks below every status.
local TRADE_RANK = {MATCHED = 0, MINED = 1, RETRYING = 1, CONFIRMED = 2, FAILED = 2}

local function trade_rank(status)
  return TRADE_RANK[status] or -1
end

-- Realized PnL of a settled position after its shares or cash changed (a late fill
-- re-prices the settlement; so does a reversed one). KEYS passed in: position, window.
local function reprice_settlement(pos_key, window_key)
  if redis.call('HGET', pos_key, 'settled') ~= '1' then return end
  local winner = redis.call('HGET', window_key, 'winner')
  local win_field = 'up_shares'
  if winner == 'Down' then win_field = 'down_shares' end
  local now = redis.call('HMGET', pos_key, win_field, 'cash')
  local payout = to_micro(now[1])
  redis.call('HSET', pos_key, 'payout', fmt(payout), 'realized_pnl', fmt(to_micro(now[2]) + payout))
end

-- A fill's shares and buy notional (micro-units) on its order's strategy, in the market's
-- strategy positions hash (`<strategy>|Up`, `<strategy>|Down`, `<strategy>|buy_notional`):
-- what create_order.lua checks a strategy's own risk limits against. `sign` -1 undoes it.
local function strategy_fill(spos_key, order_key, outcome, side, size, notional, sign)
  if not spos_key then return end
  local strategy = redis.call('HGET', order_key, 'strategy') or ''
  if side == 'BUY' then
    redis.call('HINCRBY', spos_key, strategy .. '|' .. outcome, sign * size)
    redis.call('HINCRBY', spos_key, strategy .. '|buy_notional', sign * notional)
  else
    redis.call('HINCRBY', spos_key, strategy .. '|' .. outcome, -sign * size)
  end
end
