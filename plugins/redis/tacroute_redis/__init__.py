"""tacroute-redis: tacroute's shared state (cooldowns, provider slots, rpm, spend, fleet stats) on Redis.

Install it beside tacroute and set ``[state] backend = "redis"``; see
:mod:`tacroute_redis.backend` for the keys it keeps and
:mod:`tacroute_redis.scripts` for the atomic steps.
"""
