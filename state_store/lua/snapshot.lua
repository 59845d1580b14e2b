-- Read N markets in one round trip: window, position and open orders each.
-- KEYS: for every market, window, position, pending_market (3 keys each)
-- ARGV: order key prefix ('nb:{B}:order:')
-- Order keys are derived here from ids held in the pending set; they share
-- the bot's hash tag with every declared key, so they live in the same slot.
local out = {}
for i = 1, #KEYS, 3 do
  local orders = {}
  for _, coid in ipairs(redis.call('SMEMBERS', KEYS[i + 2])) do
    table.insert(orders, redis.call('HGETALL', ARGV[1] .. coid))
  end
  table.insert(out, {redis.call('HGETALL', KEYS[i]), redis.call('HGETALL', KEYS[i + 1]), orders})
end
return out
