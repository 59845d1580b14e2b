-- Give the publisher lease up, only while it is still ours.
-- KEYS: watcher lease
-- ARGV: token
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
