-- Claim (or renew, if already ours) a market lease. A fresh grant takes a new
-- fencing token from one counter (the value is '<replica>|<token>') and is
-- recorded in a capped stream with the server's time, so "who traded this
-- market when, under which token" can be answered afterwards.
-- A resent call finds the lease ours and renews it: no second log entry.
-- KEYS: lease, fence, lease_log
-- ARGV: replica, ttl_ms, market, log_maxlen
local current = redis.call('GET', KEYS[1])
if current then
  local holder, token = string.match(current, '^(.*)|(%d+)$')
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {'renewed', token}
  end
  return {'held', current}
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
local now = redis.call('TIME')
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'market', ARGV[3],
  'replica', ARGV[1], 'token', tostring(token),
  'ts', now[1] .. '.' .. string.format('%06d', tonumber(now[2])))
return {'granted', tostring(token)}
