-- Create an order from an intent. Idempotent by client order id; fenced.
-- KEYS: order, pending, pending_market, orders_market, lease, window, venue_orders
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

local function open_counts(prefix, strategy)
  local bot, mine = 0, 0
  for _, coid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    bot = bot + 1
    if redis.call('HGET', prefix .. coid, 'strategy') == strategy then mine = mine + 1 end
  end
  return bot, mine
end

-- Shares of `outcome` (filled buys + open buys - filled sells) and buy notional
-- (filled + open, micro-units), over every order of this market window: bot, strategy.
local function window_usage(prefix, strategy, outcome)
  local u = {shares = {0, 0}, notional = {0, 0}}
  for _, coid in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    local o = redis.call('HMGET', prefix .. coid,
      'strategy', 'side', 'outcome', 'price', 'size', 'filled', 'status')
    local filled = to_micro(o[6])
    local held, notional = 0, 0
    if o[2] == 'BUY' then
      local committed = filled
      if not is_terminal(o[7]) then committed = math.max(to_micro(o[5]), filled) end
      notional = committed * to_micro(o[4]) / 1000000
      if o[3] == outcome then held = committed end
    elseif o[3] == outcome then
      held = -filled
    end
    u.shares[1] = u.shares[1] + held
    u.notional[1] = u.notional[1] + notional
    if o[1] == strategy then
      u.shares[2] = u.shares[2] + held
      u.notional[2] = u.notional[2] + notional
    end
  end
  return u
end

local function refusal()
  if ARGV[15] == nil or ARGV[7] ~= 'BUY' then return nil end
  local strategy = ARGV[3]
  local scopes = {'bot', strategy}
  local lim = {}
  for i = 16, 21 do lim[#lim + 1] = tonumber(ARGV[i]) end
  local bot_open, mine_open = open_counts(ARGV[15], strategy)
  local open = {bot_open, mine_open}
  local size = to_micro(ARGV[9])
  local u = window_usage(ARGV[15], strategy, ARGV[5])
  local notional = size * to_micro(ARGV[8]) / 1000000
  for s = 1, 2 do
    local base = (s - 1) * 3
    if open[s] + 1 > lim[base + 3] then return scopes[s] .. '.max_open_orders' end
    if u.shares[s] + size > lim[base + 1] then return scopes[s] .. '.max_shares' end
    if u.notional[s] + notional > lim[base + 2] then return scopes[s] .. '.max_notional' end
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
