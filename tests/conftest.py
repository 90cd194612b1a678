"""Fixtures for the whole suite.

Autouse: uploaded files go to a per-test directory, caches start empty, Celery runs tasks eagerly (in-process)
except in tests that start a real worker (the ``celery_worker`` fixture of tests/integration).

Personas (healthchecks style), all with verified e-mail and the password ``factories.DEFAULT_PASSWORD``:

    staff_user          platform administrator (is_staff, is_superuser)
    enterprise          verified enterprise in 杭州, administered by ``enterprise_admin``
    verified_member     plain member of ``enterprise``
    university          verified university, administered by ``university_admin``
    pending_org         enterprise waiting for review, administered by ``pending_admin``
    unverified_member   plain member of ``pending_org``
    outsider            no organization at all

Clients: ``client`` (pytest-django), ``api_client`` (anonymous DRF client), ``client_for(user)`` and
``api_client_for(user)`` return clients logged in as ``user``.
"""

import os
from collections import Counter

import pytest
from django.apps import apps as django_apps
from django.core.cache import caches
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from marketplace.celery import app as celery_app
from marketplace.models import Region
from marketplace.reference_data import load_reference_data
from tests.factories import EnterpriseFactory, MembershipFactory, UniversityFactory, UserFactory

# --- autouse ----------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language. A request to an /en/ page leaves English active in its thread
    (LocaleMiddleware activates the request's language and nothing deactivates it), and a later test on the same
    worker that calls reverse() outside a request would build /en/ URLs."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clear_caches():
    # Throttle counters and cached pages must not leak from one test into the next.
    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def _celery_eager(request, settings):
    """Run tasks in-process, even when REDIS_URL names a broker (so the suite needs no worker).

    Both the Django setting and the already-configured app are set: ``app.conf`` read the settings once.
    Tests that use the ``celery_worker`` fixture keep the broker: that fixture turns eager mode off.
    """
    if "celery_worker" in request.fixturenames:
        yield
        return
    conf = celery_app.conf
    previous = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager = conf.task_eager_propagates = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
    yield
    conf.task_always_eager, conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Put the reference data back for transactional tests.

    A transactional test (``django_db(transaction=True)``, ``transactional_db``, ``live_server``) ends by
    emptying every table, and that includes the regions and fields the data migration loaded; the next
    transactional test would find no 330100. Reloading is idempotent and only happens after such a flush.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    transactional = transactional or bool({"transactional_db", "live_server"} & set(request.fixturenames))
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    if not Region.objects.exists():
        load_reference_data(django_apps)


# --- personas ---------------------------------------------------------------------------------------------


@pytest.fixture
def staff_user(db):
    return UserFactory(username="platform-staff", full_name="平台审核员", staff=True)


@pytest.fixture
def enterprise(db):
    admin = UserFactory(username="enterprise-admin", full_name="陈建华")
    return EnterpriseFactory(created_by=admin, region_code="330100", fields=["advanced_manufacturing"])


@pytest.fixture
def enterprise_admin(enterprise):
    return enterprise.created_by


@pytest.fixture
def verified_member(enterprise):
    membership = MembershipFactory(organization=enterprise, user__username="verified-member")
    return membership.user


@pytest.fixture
def university(db):
    admin = UserFactory(username="university-admin", full_name="赵明远")
    return UniversityFactory(created_by=admin, region_code="330100", fields=["new_materials"])


@pytest.fixture
def university_admin(university):
    return university.created_by


@pytest.fixture
def pending_org(db):
    admin = UserFactory(username="pending-admin", full_name="徐振宇")
    return EnterpriseFactory(created_by=admin, region_code="330400", pending=True)


@pytest.fixture
def pending_admin(pending_org):
    return pending_org.created_by


@pytest.fixture
def unverified_member(pending_org):
    membership = MembershipFactory(organization=pending_org, user__username="unverified-member")
    return membership.user


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider", full_name="路人甲")


# --- clients ----------------------------------------------------------------------------------------------


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_client_for(db):
    """``api_client_for(user)``: a DRF client with a session for ``user`` (CSRF is not enforced in tests)."""

    def make(user) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def client_for(db):
    """``client_for(user)``: a website test client logged in as ``user``."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


# --- integration test accounting --------------------------------------------------------------------------
# CI sets REQUIRE_INTEGRATION_TESTS=1 next to DATABASE_URL/REDIS_URL: a skipped integration test then means the
# services were not wired through, and the run fails instead of passing green with the important half missing.

_integration_outcomes: Counter = Counter()


def _integration_required() -> bool:
    return os.environ.get("REQUIRE_INTEGRATION_TESTS", "").lower() in {"1", "true", "yes"}


def pytest_runtest_logreport(report):
    if "integration" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _integration_outcomes[report.outcome] += 1


def pytest_sessionfinish(session, exitstatus):
    if _integration_required() and _integration_outcomes["skipped"] and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if not _integration_outcomes:
        return
    counts = ", ".join(f"{_integration_outcomes[k]} {k}" for k in ("passed", "skipped", "failed"))
    terminalreporter.write_line(f"integration tests: {counts}")
    if _integration_required() and _integration_outcomes["skipped"]:
        terminalreporter.write_line(
            "REQUIRE_INTEGRATION_TESTS is set but integration tests were skipped (see the skip reasons above): failing.",
            red=True,
        )
