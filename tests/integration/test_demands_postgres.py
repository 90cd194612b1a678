"""Demands on the real engines: concurrent proposals and closes under PostgreSQL's locking, the beat task
delivered twice to a real worker on Redis, and the trigram index of the keyword search (STYLE §2.7).

Each race is run twice over: once deterministically (the first transaction is held open after its write, the
second is observed blocking on the lock, then the first commits) and once "in the wild" (threads released
together by a barrier, several rounds), which is what production looks like.
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from demands import services
from demands.filters import DemandFilter
from demands.models import Demand, Proposal, ProposalReceipt
from demands.selectors import demand_list_public
from demands.tasks import demand_close_due_task
from marketplace.exceptions import ApplicationError
from marketplace.models import AuditLog, Notification
from tests.factories import (
    DemandFactory,
    EnterpriseFactory,
    MembershipFactory,
    ProposalFactory,
    UniversityFactory,
)
from tests.integration.conftest import TIMEOUT, Racer, wait_until
from tests.integration.markers import requires_postgres, requires_redis_broker

pytestmark = [pytest.mark.integration, requires_postgres]


def bid(demand, supplier, actor, approach):
    return services.proposal_submit(
        demand=demand, supplier=supplier, actor=actor, approach=approach, duration_days=60, price="150000"
    )


def outcome(racer: Racer) -> str:
    if racer.error is None:
        return "ok"
    assert isinstance(racer.error, ApplicationError), racer.error
    return racer.error.code


# --- two members of one organization submit at the same moment ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_members_submitting_at_once_make_one_proposal(wait_for_blocked_session):
    # given a published demand and two members of one verified university
    owner = EnterpriseFactory()
    demand = DemandFactory(owner=owner)
    university = UniversityFactory()
    first_member, second_member = university.created_by, MembershipFactory(organization=university).user
    first_has_written, release_first = threading.Event(), threading.Event()

    def submit_and_hold():
        with transaction.atomic():
            proposal, _ = bid(demand, university, first_member, "方案甲：近红外在线测厚")
            first_has_written.set()
            assert release_first.wait(TIMEOUT)
        return proposal

    # when the second submission arrives while the first is still uncommitted
    first = Racer(submit_and_hold, "first")
    first.start()
    first.wait_for(first_has_written)
    second = Racer(lambda: bid(demand, university, second_member, "方案乙：激光三角测厚"), "second")
    second.start()
    wait_for_blocked_session()  # on the demand row the first submission locked
    release_first.set()
    first.finish(), second.finish()

    # then one proposal exists, the first one, and the second member is told it is a duplicate
    assert outcome(first) == "ok"
    assert outcome(second) == "duplicate"
    assert list(Proposal.objects.values_list("supplier", "approach", "version")) == [
        (university.pk, "方案甲：近红外在线测厚", 1)
    ]
    assert ProposalReceipt.objects.count() == 1
    assert AuditLog.objects.filter(action="proposal.submit").count() == 1
    # The owner was told of one proposal, once.
    assert Notification.objects.filter(user=owner.created_by).count() == 1
    assert [m.to for m in mail.outbox] == [[owner.created_by.email]]


@pytest.mark.django_db(transaction=True)
def test_members_released_together_by_a_barrier_never_make_two_proposals():
    rounds = 5
    university = UniversityFactory()
    members = [university.created_by, MembershipFactory(organization=university).user]
    demands = [DemandFactory() for _ in range(rounds)]
    outcomes = Counter()

    for demand in demands:
        barrier = threading.Barrier(len(members), timeout=TIMEOUT)

        def submit(member, demand=demand, barrier=barrier):
            barrier.wait()
            return bid(demand, university, member, f"{member.username} 的方案")

        racers = [Racer(lambda m=m: submit(m), m.username) for m in members]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.finish()
        outcomes.update(outcome(racer) for racer in racers)

    assert outcomes == {"ok": rounds, "duplicate": rounds}
    assert Counter(Proposal.objects.values_list("demand", flat=True)) == {d.pk: 1 for d in demands}
    assert ProposalReceipt.objects.count() == rounds


# --- the deadline job running twice at once ---------------------------------------------------------------------


def due_demand_with_bidders():
    """A demand past its deadline: owner with two members, two bidders (one with two members)."""
    owner = EnterpriseFactory()
    owner_members = [owner.created_by, MembershipFactory(organization=owner).user]
    demand = DemandFactory(owner=owner)
    first_bid, second_bid = ProposalFactory(demand=demand), ProposalFactory(demand=demand)
    bidder_members = [
        first_bid.supplier.created_by,
        MembershipFactory(organization=first_bid.supplier).user,
        second_bid.supplier.created_by,
    ]
    Demand.objects.filter(pk=demand.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    return demand, owner_members, bidder_members


def assert_closed_once(demand, owner_members, bidder_members):
    demand.refresh_from_db()
    assert demand.status == Demand.Status.CLOSED
    assert AuditLog.objects.filter(action="demand.close", target_id=str(demand.pk)).count() == 1
    everyone = owner_members + bidder_members
    assert Counter(Notification.objects.values_list("user", flat=True)) == {user.pk: 1 for user in everyone}
    assert sorted(address for m in mail.outbox for address in m.to) == sorted(user.email for user in everyone)


@pytest.mark.django_db(transaction=True)
def test_two_close_jobs_at_once_close_once_and_notify_once(wait_for_blocked_session):
    demand, owner_members, bidder_members = due_demand_with_bidders()
    first_has_written, release_first = threading.Event(), threading.Event()

    def close_and_hold():
        with transaction.atomic():
            closed = services.demand_close_due()
            first_has_written.set()
            assert release_first.wait(TIMEOUT)
        return closed

    # when the second job starts while the first has closed the demand but not yet committed: it still sees
    # the demand as published, and its guarded UPDATE waits for the first job's row lock
    first = Racer(close_and_hold, "first")
    first.start()
    first.wait_for(first_has_written)
    second = Racer(services.demand_close_due, "second")
    second.start()
    wait_for_blocked_session()
    release_first.set()
    first.finish(), second.finish()

    # then the UPDATE re-checks the committed row, finds it closed and does nothing
    assert (first.error, second.error) == (None, None)
    assert (first.result, second.result) == (1, 0)
    assert_closed_once(demand, owner_members, bidder_members)


@pytest.mark.django_db(transaction=True)
def test_close_jobs_released_together_close_each_demand_once():
    due = [due_demand_with_bidders() for _ in range(3)]
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def job():
        barrier.wait()
        return services.demand_close_due()

    racers = [Racer(job, "first"), Racer(job, "second")]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.finish()

    assert [racer.error for racer in racers] == [None, None]
    assert sum(racer.result for racer in racers) == 3
    assert AuditLog.objects.filter(action="demand.close").count() == 3
    everyone = [user for _, owners, bidders in due for user in owners + bidders]
    assert Counter(Notification.objects.values_list("user", flat=True)) == {user.pk: 1 for user in everyone}
    assert len(mail.outbox) == len(everyone)


@requires_redis_broker
def test_the_close_task_delivered_twice_to_a_worker_closes_once(celery_worker):
    demand, owner_members, bidder_members = due_demand_with_bidders()
    everyone = owner_members + bidder_members

    first = demand_close_due_task.delay()
    second = demand_close_due_task.delay()

    assert celery_worker.wait_for(first) == "SUCCESS"
    assert celery_worker.wait_for(second) == "SUCCESS"
    # The notices' e-mails are tasks of their own, queued on commit to the same worker.
    wait_until(lambda: len(mail.outbox) >= len(everyone), message="the close e-mails")
    celery_worker.wait_idle(2 + len(everyone))
    assert_closed_once(demand, owner_members, bidder_members)
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


# --- keyword search index ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_trigram_index_exists():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'demands_demand' AND indexname = %s",
            ["demand_search_trgm_idx"],
        )
        (definition,) = cursor.fetchone()
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == (1,)

    assert "USING gin (search_text gin_trgm_ops)" in definition


@pytest.mark.django_db
def test_a_keyword_search_on_a_large_table_uses_the_trigram_index():
    # given 20,000 published demands, of which 20 mention 极片涂布 (bulk-inserted: the index does not care how)
    owner = EnterpriseFactory()
    template = DemandFactory.build(owner=owner, created_by=owner.created_by)
    vocabulary = ["注塑模具银纹", "纺织印染废水", "视觉检测算法", "PLC控制系统", "铝合金压铸", "水性涂料助剂"]
    rows = []
    for n in range(20_000):
        title = "锂电池极片涂布厚度" if n % 1000 == 0 else f"{vocabulary[n % len(vocabulary)]}技术需求{n}"
        rows.append(
            Demand(
                **{
                    f.attname: getattr(template, f.attname)
                    for f in Demand._meta.concrete_fields
                    if f.attname not in ("id", "title", "search_text")
                },
                title=title,
                search_text=f"{title} {template.summary}".lower(),
            )
        )
    Demand.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE demands_demand")

    # when the list is filtered by a keyword of three characters or more
    queryset = DemandFilter({"q": "极片涂布"}, queryset=demand_list_public()).qs
    plan = queryset.explain()

    # then the planner reads the trigram index instead of scanning the table
    assert "demand_search_trgm_idx" in plan
    assert queryset.count() == 20
