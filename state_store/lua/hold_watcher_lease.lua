-- Take or renew the one-publisher-per-bot lease (`nb:{B}:watcher`).
-- The value is the holder's token '<host>:<pid>:<nonce>'; a key held by
-- another token is left alone (the caller waits as a standby).
-- KEYS: watcher lease
-- ARGV: token, ttl_ms
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if owner == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
