-- Claim (or renew, if already ours) a market lease. A fresh grant takes a
-- new fencing token from one counter; the value is '<replica>|<token>'.
-- KEYS: lease, fence
-- ARGV: replica, ttl_ms
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
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'NX', 'PX', ARGV[2])
return {'granted', tostring(token)}
