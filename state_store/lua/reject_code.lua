-- Record that the publisher rejected a tree, fenced by the publisher lease:
-- the code hash keeps the published generation and gains (rejected,
-- rejected_error), so a runner whose folder holds that tree reports the
-- rejection instead of a mismatch; the "rejected" manifest entry is appended.
-- KEYS: watcher lease, code, reloads
-- ARGV: token, stream maxlen, rejected generation, error, then the entry's pairs
-- Returns 1, or -1 when the lease is not ours.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[2], 'rejected', ARGV[3], 'rejected_error', ARGV[4])
local entry = {}
for i = 5, #ARGV do entry[#entry + 1] = ARGV[i] end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', unpack(entry))
return 1
