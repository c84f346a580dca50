-- Admit one job atomically: live workers, queue bound, per-tenant in-flight bound, enqueue.
-- KEYS[1] jobs stream        KEYS[2] tenant in-flight zset   KEYS[3] worker heartbeat zset
-- KEYS[4] worker slots hash  KEYS[5] tenant rev              KEYS[6] execution record
-- KEYS[7] idempotency key (used only when ARGV[10] > 0)
-- ARGV[1] now_ms  ARGV[2] deadline_ms  ARGV[3] execution id  ARGV[4] max queued jobs
-- ARGV[5] tenant in-flight cap (0: half the live execution slots)  ARGV[6] heartbeat window ms
-- ARGV[7] job payload  ARGV[8] pending record ('' for none)  ARGV[9] record ttl s
-- ARGV[10] idempotency ttl s (0: no Idempotency-Key)
-- Returns {1, rev} when queued; {2, execution id} when the idempotency key already names one;
-- {-1} queue full; {-2, cap} tenant over its cap; {-3} no worker.
local now = tonumber(ARGV[1])
if tonumber(ARGV[10]) > 0 then
  local earlier = redis.call('GET', KEYS[7])
  if earlier then return {2, earlier} end
end
local live = redis.call('ZRANGEBYSCORE', KEYS[3], now - tonumber(ARGV[6]), '+inf')
if #live == 0 then return {-3} end
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[4]) then return {-1} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local cap = tonumber(ARGV[5])
if cap == 0 then
  local slots = 0
  for _, n in ipairs(redis.call('HMGET', KEYS[4], unpack(live))) do
    slots = slots + (tonumber(n) or 1)
  end
  cap = math.max(1, math.floor(slots / 2))
end
if redis.call('ZCARD', KEYS[2]) >= cap then return {-2, cap} end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
if tonumber(ARGV[10]) > 0 then redis.call('SET', KEYS[7], ARGV[3], 'EX', ARGV[10]) end
local rev = redis.call('GET', KEYS[5]) or '0'
redis.call('XADD', KEYS[1], '*', 'job', ARGV[7], 'rev', rev)
if ARGV[8] ~= '' then redis.call('SET', KEYS[6], ARGV[8], 'EX', ARGV[9]) end
return {1, tonumber(rev)}
