"""The beat tasks of the demands app run twice (overlapping beats, a redelivered message) with the effect of
one run: one close, one audit entry, one notice and one e-mail per person (STYLE §2.4)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from demands.models import Demand
from demands.tasks import demand_close_due_task, demand_expire_stale_task, proposal_remind_unanswered_task
from marketplace.models import AuditLog, Notification
from tests.factories import DemandFactory, MembershipFactory, ProposalFactory

pytestmark = pytest.mark.django_db


def effects() -> dict:
    return {
        "audit": list(AuditLog.objects.order_by("id").values_list("action", "target_id")),
        "notifications": sorted(Notification.objects.values_list("user__username", "subject")),
        "mail": sorted(address for message in mail.outbox for address in message.to),
    }


def run_twice(task, capture) -> tuple[list, dict, dict]:
    results = []
    with capture(execute=True):
        results.append(task.delay().get())
    first = effects()
    with capture(execute=True):
        results.append(task())
    return results, first, effects()


def test_close_due_task_closes_once_and_notifies_once(
    enterprise, enterprise_admin, verified_member, django_capture_on_commit_callbacks
):
    demand = DemandFactory(owner=enterprise, deadline=timezone.now() - timedelta(minutes=1))
    bid = ProposalFactory(demand=demand)
    bidder_colleague = MembershipFactory(organization=bid.supplier).user
    DemandFactory(deadline=timezone.now() + timedelta(hours=1))  # not due

    results, first, second = run_twice(demand_close_due_task, django_capture_on_commit_callbacks)

    assert results == [1, 0]
    assert second == first
    assert first["audit"] == [("demand.close", str(demand.pk))]
    assert first["mail"] == sorted(
        [enterprise_admin.email, verified_member.email, bid.supplier.created_by.email, bidder_colleague.email]
    )
    assert len(first["notifications"]) == 4
    assert Demand.objects.get(pk=demand.pk).status == Demand.Status.CLOSED


def test_expire_stale_task_expires_once_and_notifies_once(
    enterprise, enterprise_admin, settings, django_capture_on_commit_callbacks
):
    settings.DEMAND_AWARD_GRACE_DAYS = 60
    demand = DemandFactory(owner=enterprise, closed=True, closed_at=timezone.now() - timedelta(days=61))
    bid = ProposalFactory(demand=demand)

    results, first, second = run_twice(demand_expire_stale_task, django_capture_on_commit_callbacks)

    assert results == [1, 0]
    assert second == first
    assert first["audit"] == [("demand.expire", str(demand.pk))]
    assert first["mail"] == sorted([enterprise_admin.email, bid.supplier.created_by.email])
    assert Demand.objects.get(pk=demand.pk).status == Demand.Status.EXPIRED


def test_remind_task_reminds_once(enterprise, enterprise_admin, settings, django_capture_on_commit_callbacks):
    settings.DEMAND_RESPONSE_DAYS = 7
    demand = DemandFactory(owner=enterprise)
    ProposalFactory(demand=demand, submitted_at=timezone.now() - timedelta(days=8))
    ProposalFactory(demand=demand, submitted_at=timezone.now() - timedelta(days=9))

    results, first, second = run_twice(proposal_remind_unanswered_task, django_capture_on_commit_callbacks)

    assert results == [2, 0]
    assert second == first
    assert first["mail"] == [enterprise_admin.email, enterprise_admin.email]
    assert len(first["notifications"]) == 2


@pytest.mark.parametrize(
    "task", [demand_close_due_task, demand_expire_stale_task, proposal_remind_unanswered_task]
)
def test_tasks_with_nothing_to_do_do_nothing(task):
    DemandFactory()

    assert task() == 0
    assert effects() == {"audit": [], "notifications": [], "mail": []}
