"""The Lua scripts: each check-and-write runs atomically on the server, in one round trip.

Times are the server's (``TIME``), so machines whose clocks differ still agree
on which leases expired and which starts are in the ``rpm`` window.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "PUT_COOLDOWN", "RENEW", "RESERVE", "SNAPSHOT"]

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

#: KEYS: cooldown index, then (slots, starts) per provider. ARGV: cooldown key prefix, window ms.
#: Returns {now, {cooldown json...}, {running, started, ...}}.
SNAPSHOT = _NOW + """
local cools = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local v = redis.call('GET', ARGV[1] .. m)
  if v then cools[#cools + 1] = v else redis.call('SREM', KEYS[1], m) end
end
local counts = {}
for i = 2, #KEYS, 2 do
  counts[#counts + 1] = redis.call('ZCOUNT', KEYS[i], '(' .. now, '+inf')
  counts[#counts + 1] = redis.call('ZCOUNT', KEYS[i + 1], '(' .. (now - tonumber(ARGV[2])), '+inf')
end
return {now, cools, counts}
"""

#: KEYS: slots, starts [, spend hash]. ARGV: lease id, ttl ms, max_concurrent (-1: none), rpm (-1: none),
#: window ms [, usd, cap, spend field]. Returns {1|0, 'ok'|'c'|'r'|'b', running, started [, spent]}.
ACQUIRE = _NOW + """
local ttl = tonumber(ARGV[2])
local window = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local running = redis.call('ZCARD', KEYS[1])
local started = redis.call('ZCARD', KEYS[2])
local maxc = tonumber(ARGV[3])
local rpm = tonumber(ARGV[4])
if maxc >= 0 and running >= maxc then return {0, 'c', running, started} end
if rpm >= 0 and started >= rpm then return {0, 'r', running, started} end
if #KEYS >= 3 then
  local spent = tonumber(redis.call('HGET', KEYS[3], ARGV[8]) or '0')
  if spent + tonumber(ARGV[6]) > tonumber(ARGV[7]) then
    return {0, 'b', running, started, tostring(spent)}
  end
  redis.call('HINCRBYFLOAT', KEYS[3], ARGV[8], ARGV[6])
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl + 60000)
redis.call('PEXPIRE', KEYS[2], window + 60000)
return {1, 'ok', running + 1, started + 1}
"""

#: KEYS: slots. ARGV: lease id, ttl ms. The lease is put back even when it was lost
#: (the server restarted empty): the attempt it stands for is still running.
RENEW = _NOW + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000)
return 1
"""

#: KEYS: the cooldown's key, the index. ARGV: until (epoch ms), json, index member.
#: A later cooldown already there is kept; the key expires when the cooldown ends.
PUT_COOLDOWN = _NOW + """
local old = redis.call('GET', KEYS[1])
if old then
  local ok, o = pcall(cjson.decode, old)
  local old_until = ok and type(o) == 'table' and tonumber(o['until'])
  if old_until and old_until * 1000 >= tonumber(ARGV[1]) then
    return 0
  end
end
local ttl = math.floor(tonumber(ARGV[1]) - now)
if ttl <= 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('SADD', KEYS[2], ARGV[3])
return 1
"""

#: KEYS: the period's spend hash. ARGV: usd, cap, field (the budget key). Returns {1|0, spent after}.
RESERVE = """
local spent = tonumber(redis.call('HGET', KEYS[1], ARGV[3]) or '0')
if spent + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, tostring(spent)} end
return {1, redis.call('HINCRBYFLOAT', KEYS[1], ARGV[3], ARGV[1])}
"""
