-- Publish a validated code generation, fenced by the publisher lease: the
-- code hash is replaced (seq = max(seq in Redis, seq in code.json) + 1) and
-- the "published" manifest entry (with that seq) is appended, atomically.
-- Replacing the hash also drops the last rejection (rejected, rejected_error).
-- KEYS: watcher lease, code, reloads
-- ARGV: token, stream maxlen, seq floor, n record fields,
--       then n (field, value) pairs of the record, then the entry's pairs
-- Returns the seq, or -1 when the lease is not ours.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local seq = math.max(tonumber(redis.call('HGET', KEYS[2], 'seq') or '0') or 0,
                     tonumber(ARGV[3])) + 1
local n = tonumber(ARGV[4])
local record = {'seq', tostring(seq)}
for i = 5, 4 + 2 * n do record[#record + 1] = ARGV[i] end
local entry = {'seq', tostring(seq)}
for i = 5 + 2 * n, #ARGV do entry[#entry + 1] = ARGV[i] end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(record))
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', unpack(entry))
return seq
