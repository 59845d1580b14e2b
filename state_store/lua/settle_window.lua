-- Settle a resolved window: payout of the winning shares, realised PnL.
-- Runs once: a second settlement of the same window changes nothing.
-- KEYS: window, position, unsettled, open_markets
-- ARGV: market, winner ('Up' | 'Down'), end_price, now
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'no_window', ''} end
if status == 'settled' then return {'already', redis.call('HGET', KEYS[1], 'winner')} end
local field = 'up_shares'
if ARGV[2] == 'Down' then field = 'down_shares' end
local pos = redis.call('HMGET', KEYS[2], field, 'cash')
-- Signed: winning shares pay 1 each; a net short of the winner (only possible
-- while fills are still arriving out of order) owes 1 each.
-- cash is net of every fill's fee (apply_fill), so the realised PnL is too.
local payout = to_micro(pos[1])
local pnl = to_micro(pos[2]) + payout
redis.call('HSET', KEYS[2], 'market', ARGV[1], 'payout', fmt(payout),
  'realized_pnl', fmt(pnl), 'settled', '1', 'updated_at', ARGV[4])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'settled', 'winner', ARGV[2],
  'end_price', ARGV[3], 'settled_at', ARGV[4])
return {'settled', fmt(pnl)}
