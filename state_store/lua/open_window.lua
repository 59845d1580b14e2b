-- Open a market window, and close the window it rolls over from (if any).
-- Idempotent: an existing window keeps its fields and status; market terms (tick size,
-- minimum size, fee data, neg risk) it does not have yet are added (the first writer wins).
-- KEYS: window, markets, previous_window (may equal window: nothing to close), unsettled,
--       open_markets
-- ARGV: market, asset, interval, start_ts, end_ts, condition_id, up_token,
--       down_token, start_price, now, then term name/value pairs ("" values are skipped)
if KEYS[3] ~= KEYS[1] then
  if redis.call('HGET', KEYS[3], 'status') == 'open' then
    redis.call('HSET', KEYS[3], 'status', 'closed', 'closed_at', ARGV[10])
    local previous = redis.call('HGET', KEYS[3], 'market')
    redis.call('SADD', KEYS[4], previous)
    redis.call('SREM', KEYS[5], previous)
  end
end
local function add_terms(only_new)
  for i = 11, #ARGV, 2 do
    if ARGV[i + 1] ~= '' and (not only_new or redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0) then
      redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    end
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  add_terms(true)
  if ARGV[9] ~= '' and (redis.call('HGET', KEYS[1], 'start_price') or '') == '' then
    redis.call('HSET', KEYS[1], 'start_price', ARGV[9], 'strike_source', 'venue')
    redis.call('HDEL', KEYS[1], 'strike_missing')
  end
  return {'exists', redis.call('HGET', KEYS[1], 'status')}
end
redis.call('HSET', KEYS[1], 'market', ARGV[1], 'asset', ARGV[2], 'interval', ARGV[3],
  'start_ts', ARGV[4], 'end_ts', ARGV[5], 'condition_id', ARGV[6],
  'up_token', ARGV[7], 'down_token', ARGV[8], 'start_price', ARGV[9],
  'status', 'open', 'winner', '', 'end_price', '', 'opened_at', ARGV[10])
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'strike_source', 'venue') end
add_terms(false)
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
return {'created', 'open'}
