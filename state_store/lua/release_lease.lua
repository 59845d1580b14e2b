-- Release a lease only if it is still ours with the same fencing token.
-- KEYS: lease
-- ARGV: replica, token
if redis.call('GET', KEYS[1]) == ARGV[1] .. '|' .. ARGV[2] then
  redis.call('DEL', KEYS[1])
  return {'released', ARGV[2]}
end
return {'not_held', redis.call('GET', KEYS[1]) or ''}
