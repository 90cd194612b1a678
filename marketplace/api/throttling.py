"""Rate limits with a counter per client and window: one ``INCR`` in the cache per request.

DRF's throttles keep the time of every request of the window in one cache entry and read, unpickle, trim,
pickle and write the whole list back on every request — O(requests in the window) of CPU, and the single
largest cost of a bid after the bid itself (measured: 1.4 of ~7.5 ms CPU per bid; docs/performance.md). A
fixed window counts with one atomic ``INCR``; the price is that a client may spend up to twice its rate
across a window boundary, which is the usual trade of counter-based limiters.
"""

import time

from rest_framework import throttling


class FixedWindowMixin:
    """Replaces ``allow_request``/``wait`` of a ``SimpleRateThrottle``; keys and rates stay DRF's."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        self.window_end = (window + 1) * self.duration
        counter = f"{key}:{window}"
        try:
            count = self.cache.incr(counter)
        except ValueError:
            # First request of the window; if another request created the counter in between, count on it.
            count = 1 if self.cache.add(counter, 1, self.duration + 1) else self.cache.incr(counter)
        self.now = now
        return count <= self.num_requests

    def wait(self):
        return max(self.window_end - self.now, 0.0)


class AnonRateThrottle(FixedWindowMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FixedWindowMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(FixedWindowMixin, throttling.ScopedRateThrottle):
    def allow_request(self, request, view):
        # DRF's version picks the view's scope and rate, then counts through SimpleRateThrottle; count here.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)
