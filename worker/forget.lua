-- Forget consumers of crashed workers: no pending entries and idle for longer than ARGV[2] ms.
-- Atomic, so no delivery can reach a consumer between the check and the delete.
-- KEYS[1] jobs stream   ARGV[1] group   ARGV[2] idle ms
local removed = 0
for _, fields in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local c = {}
  for i = 1, #fields, 2 do c[fields[i]] = fields[i + 1] end
  if tonumber(c['pending']) == 0 and tonumber(c['idle']) > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], c['name'])
    removed = removed + 1
  end
end
return removed
