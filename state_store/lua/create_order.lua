-- Create an order from an intent. Idempotent by client order id; fenced.
-- KEYS: order, pending, pending_market, orders_market, lease, window, venue_orders
--       [, position, strategy positions: with the risk limits]
-- ARGV: coid, market, strategy, intent_key, outcome, token_id, side,
--       price, size, order_type, venue_order_id, replica, fence, now
--       [, order key prefix, then the risk limits of a BUY: bot max shares, bot max
--        notional (micro-units), bot max open orders, the same three of the strategy]
-- With the risk limits, a BUY that would take a limit past its value is refused
-- ({'refused', '<scope>.<limit>'}), checked here so it is atomic with the create:
-- two replicas trading different markets of one bot cannot both pass a bot limit.
-- A SELL (an exit) is never refused by a limit.
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

-- Orders not yet terminal: the bot's (the pending set's size); the strategy's only when
-- its limit is below the bot's (else the bot's count bounds it), by reading the set.
local function strategy_open(prefix, strategy)
  local mine = 0
  for _, coid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if redis.call('HGET', prefix .. coid, 'strategy') == strategy then mine = mine + 1 end
  end
  return mine
end

-- Shares of `outcome` (filled, plus what open buys may still fill) and buy notional
-- (filled at fill prices, plus open remainders at their limit), micro-units, of the
-- bot (position hash) or of one strategy (its fields in the strategy positions hash,
-- kept by apply_fill/reverse_fill), plus the open BUYs of this market window.
local function window_usage(prefix, strategy, outcome)
  local shares, notional
  if strategy then
    local f = redis.call('HMGET', KEYS[9], strategy .. '|' .. outcome,
      strategy .. '|buy_notional')
    shares, notional = tonumber(f[1]) or 0, tonumber(f[2]) or 0
  else
    local field = 'up_shares'
    if outcome == 'Down' then field = 'down_shares' end
    local f = redis.call('HMGET', KEYS[8], field, 'buy_notional')
    shares, notional = to_micro(f[1]), to_micro(f[2])
  end
  for _, coid in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    local o = redis.call('HMGET', prefix .. coid, 'strategy', 'side', 'outcome', 'price',
      'size', 'filled')
    if o[2] == 'BUY' and (not strategy or o[1] == strategy) then
      local left = math.max(to_micro(o[5]) - to_micro(o[6]), 0)
      notional = notional + left * to_micro(o[4]) / 1000000
      if o[3] == outcome then shares = shares + left end
    end
  end
  return shares, notional
end

-- The limit a BUY would pass ('' when none): the bot's, then the strategy's where they
-- are tighter than the bot's (a strategy's usage never exceeds the bot's).
local function refusal()
  if ARGV[15] == nil or ARGV[7] ~= 'BUY' then return nil end
  local prefix, strategy, outcome = ARGV[15], ARGV[3], ARGV[5]
  local lim = {}
  for i = 16, 21 do lim[#lim + 1] = tonumber(ARGV[i]) end
  local size = to_micro(ARGV[9])
  local cost = size * to_micro(ARGV[8]) / 1000000
  if redis.call('SCARD', KEYS[2]) + 1 > lim[3] then return 'bot.max_open_orders' end
  local shares, notional = window_usage(prefix, nil, outcome)
  if shares + size > lim[1] then return 'bot.max_shares' end
  if notional + cost > lim[2] then return 'bot.max_notional' end
  if lim[6] < lim[3] and strategy_open(prefix, strategy) + 1 > lim[6] then
    return strategy .. '.max_open_orders'
  end
  if lim[4] < lim[1] or lim[5] < lim[2] then
    shares, notional = window_usage(prefix, strategy, outcome)
    if shares + size > lim[4] then return strategy .. '.max_shares' end
    if notional + cost > lim[5] then return strategy .. '.max_notional' end
  end
  return nil
end

local refused = refusal()
if refused then return {'refused', refused} end

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
