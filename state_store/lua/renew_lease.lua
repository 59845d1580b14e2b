-- Extend a lease only while it is still ours with the same fencing token.
-- KEYS: lease
-- ARGV: replica, token, ttl_ms
if redis.call('GET', KEYS[1]) == ARGV[1] .. '|' .. ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'renewed', ARGV[2]}
end
return {'lost', redis.call('GET', KEYS[1]) or ''}
