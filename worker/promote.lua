-- Move due background retries from the delayed zset into the job stream.
-- KEYS[1] delayed zset  KEYS[2] jobs stream   ARGV[1] now_ms  ARGV[2] max to move
-- The tenant's rev key is derived from the job (single-instance Redis only, like the rest).
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, payload in ipairs(due) do
  redis.call('ZREM', KEYS[1], payload)
  local job = cmsgpack.unpack(payload)
  local rev = redis.call('GET', 'ar:t:' .. job['tenant'] .. ':rev') or '0'
  redis.call('XADD', KEYS[2], '*', 'job', payload, 'rev', rev)
end
return #due
