"""Fixtures of the integration layer: a real Celery worker on the Redis broker, and threads with their own
database connections for the race tests."""

import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection, connections

from marketplace.celery import app as celery_app

TIMEOUT = 30  # seconds; generous, a healthy worker answers in milliseconds


def wait_until(predicate, *, timeout: float = TIMEOUT, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(0.05)


@dataclass
class RunningWorker:
    """The worker started by ``celery_worker``; ``finished`` maps task id → final state (SUCCESS, FAILURE, …)."""

    queue: str
    finished: dict[str, str] = field(default_factory=dict)

    def wait_for(self, result, *, timeout: float = TIMEOUT) -> str:
        wait_until(lambda: result.id in self.finished, timeout=timeout, message=f"task {result.id}")
        return self.finished[result.id]

    def wait_idle(self, count: int, *, timeout: float = TIMEOUT) -> None:
        wait_until(lambda: len(self.finished) >= count, timeout=timeout, message=f"{count} finished tasks")


@pytest.fixture
def celery_worker(transactional_db, settings):
    """A Celery worker thread consuming from the Redis broker, with eager mode off for this test.

    Tasks go to a queue of their own, so parallel test processes (or a developer's worker on the same Redis)
    never take each other's messages. The worker sees only committed rows, hence ``transactional_db``.
    """
    conf = celery_app.conf
    saved = {
        key: conf[key] for key in ("task_always_eager", "task_default_queue", "worker_hijack_root_logger")
    }
    queue = f"techmarket-test-{uuid.uuid4().hex[:12]}"
    conf.task_always_eager = False
    conf.task_default_queue = queue
    conf.worker_hijack_root_logger = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    running = RunningWorker(queue=queue)

    def on_postrun(task_id=None, state=None, **kwargs):
        # Runs in the worker thread: give back its database connection, or dropping the test database at the
        # end of the session fails with "database is being accessed by other users".
        connections.close_all()
        running.finished[task_id] = state

    task_postrun.connect(on_postrun, weak=False)
    try:
        with start_worker(celery_app, queues=[queue], perform_ping_check=False, loglevel="WARNING"):
            yield running
    finally:
        task_postrun.disconnect(on_postrun)
        celery_app.amqp.queues.deselect([queue])
        # The queue, its exchange and kombu's binding keys: leave nothing behind in the test Redis database.
        redis_client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        keys = list(redis_client.scan_iter(match=f"*{queue}*"))
        if keys:
            redis_client.delete(*keys)
        redis_client.close()
        for key, value in saved.items():
            conf[key] = value


class Racer(threading.Thread):
    """Runs ``target`` in a thread with its own database connection; keeps its result or its exception."""

    def __init__(self, target, name: str):
        super().__init__(name=name, daemon=True)
        self._target_fn = target
        self.result = None
        self.error: BaseException | None = None

    def run(self):
        try:
            self.result = self._target_fn()
        except BaseException as exc:  # handed to the test thread, which asserts on it
            self.error = exc
        finally:
            connection.close()

    def wait_for(self, event: threading.Event, timeout: float = TIMEOUT) -> None:
        """Wait until the thread sets ``event``; if it died first, raise what killed it."""
        wait_until(
            lambda: event.is_set() or not self.is_alive(), timeout=timeout, message=f"{self.name} to write"
        )
        if not event.is_set():
            raise AssertionError(f"{self.name} ended before writing") from self.error

    def finish(self, timeout: float = TIMEOUT) -> "Racer":
        self.join(timeout)
        assert not self.is_alive(), f"{self.name} did not finish within {timeout}s"
        return self


def sessions_waiting_for_a_lock() -> int:
    """How many other sessions of this database are blocked on a lock (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def wait_for_blocked_session():
    def wait():
        wait_until(
            lambda: sessions_waiting_for_a_lock() >= 1, message="the second transaction to block on a lock"
        )

    return wait
