-- Replace the control hash and append its audit entries in one atomic step.
-- KEYS[1] control hash, KEYS[2] audit stream
-- ARGV: mode ('cas' | 'newer'), expected raw version, change_id, stream maxlen,
--       N, then N field/value pairs of the state, then per audit entry:
--       K followed by K field/value pairs
-- Returns {'ok'|'applied'|'conflict', raw version found}.
local raw = redis.call('HGET', KEYS[1], 'version')
if raw == false then raw = '' end
local nstate = tonumber(ARGV[5])
local state = {}
local newversion = -1
for i = 0, nstate - 1 do
  local f, v = ARGV[6 + 2 * i], ARGV[7 + 2 * i]
  state[#state + 1] = f
  state[#state + 1] = v
  if f == 'version' then newversion = tonumber(v) end
end
if ARGV[1] == 'cas' then
  if raw ~= ARGV[2] then
    if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'change_id') == ARGV[3] then
      return {'applied', raw}
    end
    return {'conflict', raw}
  end
elseif (tonumber(raw) or -1) >= newversion then
  return {'conflict', raw}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(state))
local i = 6 + 2 * nstate
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  local entry = {}
  for j = 1, 2 * k do entry[j] = ARGV[i + j] end
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(entry))
  i = i + 2 * k + 1
end
return {'ok', raw}
