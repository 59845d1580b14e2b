-- Take or renew the one-publisher-per-bot lease (`nb:{B}:watcher`).
-- The value is the holder's token '<host>:<pid>:<nonce>'; a key held by
-- another token is left alone (the caller waits as a standby), unless it is
-- exactly ARGV[3]: a holder on the caller's host whose process is gone.
-- KEYS: watcher lease
-- ARGV: token, ttl_ms, stale token to replace ('' for none)
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if owner == false or (ARGV[3] ~= '' and owner == ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
