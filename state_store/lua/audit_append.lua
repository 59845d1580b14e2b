-- Append one entry to the audit stream, once per entry id: a resent call (or a
-- second process reporting the same repair) finds the marker and adds nothing.
-- KEYS: audit stream, once-marker of this entry id
-- ARGV: marker_ttl_s, stream_maxlen, field1, value1, field2, value2, ...
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) == false then
  return {'duplicate', ''}
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
return {'appended', id}
