"""PostgreSQL behaviour the services rely on: migrations and reference data, and the guards that make two
concurrent transactions safe (STYLE §2.7).

The race tests do not hope for a collision: the first transaction is held open after its write, the second one
is started and observed blocking on the lock (pg_stat_activity), and only then is the first one committed.
"""

import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from marketplace import services
from marketplace.exceptions import ApplicationError
from marketplace.models import AuditLog, Membership, Notification, Organization, Region, TechnologyField
from marketplace.taxonomy import TECHNOLOGY_FIELDS
from tests.factories import EnterpriseFactory, UserFactory, make_credit_code
from tests.integration.conftest import TIMEOUT, Racer
from tests.integration.markers import requires_postgres

pytestmark = [pytest.mark.integration, requires_postgres]


@pytest.mark.django_db
def test_every_migration_is_applied_on_postgres():
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())

    assert connection.vendor == "postgresql"
    assert plan == []


@pytest.mark.django_db
def test_reference_data_is_loaded_by_the_migrations():
    assert Region.objects.count() == 368
    assert Region.objects.get(code="330100").name_zh == "杭州市"
    assert Region.objects.get(code="990000").parent_id is None
    top_level = set(TechnologyField.objects.filter(parent=None).values_list("code", flat=True))
    assert top_level == {code for code, *_ in TECHNOLOGY_FIELDS}
    assert len(top_level) == 11


@pytest.mark.django_db(transaction=True)
def test_two_administrators_approving_at_once_change_the_organization_once(wait_for_blocked_session):
    # given a pending enterprise with two administrators, and two platform staff
    admins = [UserFactory(), UserFactory()]
    organization = EnterpriseFactory(pending=True, admins=admins, created_by=admins[0])
    staff = [UserFactory(staff=True), UserFactory(staff=True)]
    first_has_written = threading.Event()
    release_first = threading.Event()

    def approve(actor, *, hold: bool):
        org = Organization.objects.get(pk=organization.pk)
        with transaction.atomic():
            services.organization_decide(
                organization=org, decision="approve", actor=actor, reason="核验一致。"
            )
            if hold:
                first_has_written.set()
                assert release_first.wait(TIMEOUT)
        return "approved"

    # when the second approval arrives while the first is still uncommitted
    first = Racer(lambda: approve(staff[0], hold=True), "first")
    first.start()
    first.wait_for(first_has_written)
    second = Racer(lambda: approve(staff[1], hold=False), "second")
    second.start()
    wait_for_blocked_session()
    release_first.set()
    first.finish(), second.finish()

    # then the first wins, the second is refused by the guard, and everything happened once
    assert first.error is None
    assert first.result == "approved"
    assert isinstance(second.error, ApplicationError)
    assert second.error.code == "bad_state"
    organization.refresh_from_db()
    assert organization.status == Organization.Status.VERIFIED
    assert AuditLog.objects.filter(action="organization.approve", target_id=str(organization.pk)).count() == 1
    assert AuditLog.objects.get(action="organization.approve").actor == staff[0]
    for admin in admins:
        assert Notification.objects.filter(user=admin).count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(a.email for a in admins)


@pytest.mark.parametrize(
    ("first_name", "second_name"),
    [
        ("杭州恒拓精密模具有限公司", "杭州恒拓精密模具有限公司"),
        ("Hangzhou Hengtuo Precision Moulds Co., Ltd.", "HANGZHOU HENGTUO PRECISION MOULDS CO., LTD."),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_two_registrations_of_one_name_at_once_create_one_organization(
    wait_for_blocked_session, first_name, second_name
):
    # given two people registering the same organization (different credit codes) at the same moment
    first_user, second_user = UserFactory(), UserFactory()
    first_has_written = threading.Event()
    release_first = threading.Event()

    def register(user, name, serial, *, hold: bool):
        with transaction.atomic():
            organization = services.organization_create(
                user=user,
                name=name,
                org_type="enterprise",
                region_code="330100",
                credit_code=make_credit_code(region_code="330100", serial=serial),
            )
            if hold:
                first_has_written.set()
                assert release_first.wait(TIMEOUT)
        return organization

    # when the second insert reaches the unique index while the first is uncommitted (both passed the
    # "does this name exist?" check, which cannot see uncommitted rows)
    first = Racer(lambda: register(first_user, first_name, 1, hold=True), "first")
    first.start()
    first.wait_for(first_has_written)
    second = Racer(lambda: register(second_user, second_name, 2, hold=False), "second")
    second.start()
    wait_for_blocked_session()
    release_first.set()
    first.finish(), second.finish()

    # then the constraint decides: one organization, and a validation error (not a 500) for the other
    assert first.error is None
    assert isinstance(second.error, ValidationError)
    assert Organization.objects.filter(name__iexact=first_name).count() == 1
    assert Organization.objects.count() == 1
    assert list(Membership.objects.values_list("user", "role")) == [(first_user.pk, Membership.Role.ADMIN)]
    assert AuditLog.objects.filter(action="organization.register").count() == 1
