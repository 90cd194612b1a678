"""The API's rate limits: one counter per client and window."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.request import Request

from marketplace.api import throttling
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    cache.clear()
    clock = Clock(1_800_000_000.0)  # a window boundary for 60-second windows
    monkeypatch.setattr(throttling.time, "time", clock.time)
    return clock


def request_of(user=None, ip="203.0.113.7"):
    request = Request(RequestFactory().get("/api/v1/me/", REMOTE_ADDR=ip))
    request.user = (
        user
        if user is not None
        else __import__("django.contrib.auth.models").contrib.auth.models.AnonymousUser()
    )
    return request


def limited(cls, rate):
    return type("Limited", (cls,), {"rate": rate, "THROTTLE_RATES": {}})()


def test_a_user_gets_the_rate_in_a_window_then_waits_for_the_next_one(clock):
    user = UserFactory()
    answers = [
        limited(throttling.UserRateThrottle, "3/minute").allow_request(request_of(user), None)
        for _ in range(4)
    ]
    refused = limited(throttling.UserRateThrottle, "3/minute")
    clock.now += 20
    assert refused.allow_request(request_of(user), None) is False
    assert refused.wait() == pytest.approx(40.0)

    clock.now += 40  # the next window
    assert limited(throttling.UserRateThrottle, "3/minute").allow_request(request_of(user), None) is True
    assert answers == [True, True, True, False]


def test_users_and_addresses_are_counted_apart(clock):
    first, second = UserFactory(), UserFactory()
    user_throttle = limited(throttling.UserRateThrottle, "1/minute")
    anon_throttle = limited(throttling.AnonRateThrottle, "1/minute")

    assert user_throttle.allow_request(request_of(first), None) is True
    assert user_throttle.allow_request(request_of(second), None) is True
    assert user_throttle.allow_request(request_of(first), None) is False
    assert anon_throttle.allow_request(request_of(ip="198.51.100.1"), None) is True
    assert anon_throttle.allow_request(request_of(ip="198.51.100.2"), None) is True
    assert anon_throttle.allow_request(request_of(ip="198.51.100.1"), None) is False
    # An authenticated request is not the anonymous throttle's business.
    assert anon_throttle.allow_request(request_of(first), None) is True


def test_a_counter_that_expired_between_incr_and_add_starts_again(clock, monkeypatch):
    user = UserFactory()
    throttle = limited(throttling.UserRateThrottle, "2/minute")
    calls = []
    real_add = cache.add

    def add_after_a_competitor(key, value, timeout):
        calls.append(key)
        real_add(key, 1, timeout)  # another request created the counter first
        return real_add(key, value, timeout)

    monkeypatch.setattr(throttle, "cache", cache)
    monkeypatch.setattr(cache, "add", add_after_a_competitor)

    assert throttle.allow_request(request_of(user), None) is True  # counted as the second request
    assert throttle.allow_request(request_of(user), None) is False
    assert len(calls) == 1
