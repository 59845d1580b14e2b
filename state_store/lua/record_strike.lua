-- Record a window's strike (its start price) once: the first writer wins and it is
-- never overwritten. Without a price (ARGV[1] == ''), note why none could be captured;
-- a note never replaces a strike, and a strike captured later replaces the note.
-- KEYS: window
-- ARGV: price, price_ts, source, now, missing_reason
if redis.call('EXISTS', KEYS[1]) == 0 then return {'no_window', ''} end
local known = redis.call('HGET', KEYS[1], 'start_price') or ''
if known ~= '' then return {'exists', known} end
if ARGV[1] == '' then
  redis.call('HSET', KEYS[1], 'strike_missing', ARGV[5])
  return {'missing', ARGV[5]}
end
redis.call('HSET', KEYS[1], 'start_price', ARGV[1], 'strike_ts', ARGV[2],
  'strike_source', ARGV[3], 'strike_at', ARGV[4])
redis.call('HDEL', KEYS[1], 'strike_missing')
return {'recorded', ARGV[1]}
