"""The Redis cache the settings configure when REDIS_URL is set.

The test settings swap the cache for local memory (throttle counters must not leak between tests), so this
builds the same backend the real settings build, from the same REDIS_URL, under a key prefix of its own.
"""

import uuid

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache

from tests.integration.markers import requires_redis

pytestmark = [pytest.mark.integration, requires_redis]


@pytest.fixture
def redis_cache():
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"techmarket-test-{uuid.uuid4().hex[:8]}"})
    yield cache
    cache.delete_many(["kpi", "counter", "a", "b", "short"])
    cache.close()


def test_round_trip(redis_cache):
    redis_cache.set("kpi", {"demands": 12, "name": "网上技术市场"}, timeout=60)

    assert redis_cache.get("kpi") == {"demands": 12, "name": "网上技术市场"}
    assert redis_cache.get("missing", "default") == "default"


def test_add_incr_and_many(redis_cache):
    assert redis_cache.add("counter", 1) is True
    assert redis_cache.add("counter", 5) is False
    assert redis_cache.incr("counter", 2) == 3
    redis_cache.set_many({"a": 1, "b": 2})
    assert redis_cache.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
    redis_cache.delete("a")
    assert redis_cache.has_key("a") is False


def test_timeout_is_honoured(redis_cache):
    redis_cache.set("short", "x", timeout=1)
    client = redis_cache._cache.get_client("short")
    assert 0 < client.ttl(redis_cache.make_and_validate_key("short")) <= 1
