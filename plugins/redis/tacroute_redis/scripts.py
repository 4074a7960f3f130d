"""The Lua scripts: each check-and-write runs atomically on the server, in one round trip.

Times are the server's (``TIME``), so machines whose clocks differ still agree
on which leases expired and which starts are in the ``rpm`` window.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "AGGREGATE", "PUT_COOLDOWN", "RELEASE", "RENEW", "SNAPSHOT", "SPEND"]

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

#: KEYS: slots, starts [, holds, hold expiries, then the spend hash of each reservation].
#: ARGV: lease id, ttl ms, max_concurrent (-1: none), rpm (-1: none), window ms [, the holds
#: (JSON [[key, period, usd], ...]), then key, period, cap, keep, floor per reservation].
#: Returns {1|0, 'ok'|'c'|'r'|'b', running, started [, refused reservation's index, committed]}.
#: A reservation refuses when cap >= 0 and cap - committed <= 0 or < keep, committed being
#: max(spend, floor) plus the live holds on its key and period (tacroute.state.api.refuses).
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
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)) do
    redis.call('HDEL', KEYS[3], id)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  local held = {}
  for _, v in ipairs(redis.call('HVALS', KEYS[3])) do
    local ok, list = pcall(cjson.decode, v)
    if ok and type(list) == 'table' then
      for _, e in ipairs(list) do
        local f = tostring(e[1]) .. '\\31' .. tostring(e[2])
        held[f] = (held[f] or 0) + (tonumber(e[3]) or 0)
      end
    end
  end
  for i = 1, #KEYS - 4 do
    local a = 6 + (i - 1) * 5
    local cap = tonumber(ARGV[a + 3])
    if cap >= 0 then
      local spent = tonumber(redis.call('HGET', KEYS[4 + i], ARGV[a + 1]) or '0') or 0
      local committed = math.max(spent, tonumber(ARGV[a + 5]))
        + (held[ARGV[a + 1] .. '\\31' .. ARGV[a + 2]] or 0)
      local left = cap - committed
      if left <= 0 or left < tonumber(ARGV[a + 4]) then
        return {0, 'b', running, started, i, tostring(committed)}
      end
    end
  end
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[6])
  redis.call('ZADD', KEYS[4], now + ttl, ARGV[1])
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl + 60000)
redis.call('PEXPIRE', KEYS[2], window + 60000)
return {1, 'ok', running + 1, started + 1}
"""

#: KEYS: slots [, holds, hold expiries]. ARGV: lease id, ttl ms. The lease is put back even
#: when it was lost (the server restarted empty): the attempt it stands for is still running;
#: its holds only while they are there.
RENEW = _NOW + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 60000)
if #KEYS >= 3 and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[1])
end
return 1
"""

#: KEYS: slots, holds, hold expiries, the operation's done key, then a spend hash per entry.
#: ARGV: lease id, done ttl ms, spent, then the budget key of each entry. Frees the slot and
#: the holds and adds ``spent`` to each entry, in one step; the spend only once per operation.
RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if #KEYS >= 5 and tonumber(ARGV[3]) > 0 and redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[2]) then
  for i = 5, #KEYS do redis.call('HINCRBYFLOAT', KEYS[i], ARGV[i - 1], ARGV[3]) end
end
return 1
"""

#: KEYS: the operation's done key, then a spend hash per entry. ARGV: done ttl ms (-1: no
#: operation id), then budget key and usd per entry. Returns 0 when the operation was done before.
SPEND = """
if ARGV[1] ~= '-1' and not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
for i = 2, #KEYS do redis.call('HINCRBYFLOAT', KEYS[i], ARGV[2 * i - 2], ARGV[2 * i - 1]) end
return 1
"""

#: KEYS: the aggregates hash, their index, the operation's done key. ARGV: done ttl ms (-1: no
#: operation id), index member, cost ('' : none), then field and increment pairs.
AGGREGATE = """
if ARGV[1] ~= '-1' and not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[1]) then return 0 end
for i = 4, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[3] ~= '' then redis.call('HINCRBYFLOAT', KEYS[1], 'cost', ARGV[3]) end
redis.call('SADD', KEYS[2], ARGV[2])
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
