"""The record interchange (SPEC §9.1): ``import_interchange`` and ``export_interchange`` and their rules in
``marketplace.interchange`` — mapping, owners, idempotency, rejected lines, publication, the round trip."""

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from brokers import tasks
from demands.models import Demand, DemandRevision
from listings.models import Listing, ListingRevision
from marketplace.exceptions import ApplicationError
from marketplace.interchange import EXPORT_KEYS, interchange_import, system_user
from marketplace.models import AuditLog, Organization
from marketplace.services import organization_decide
from tests.factories import DemandFactory, EnterpriseFactory, UniversityFactory, get_region
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

BENCH = Path(__file__).resolve().parents[2] / "bench" / "matching_eval"
DEMANDS = "/api/v1/demands/"
LISTINGS = "/api/v1/listings/"


def demand_line(**overrides) -> dict:
    return {
        "kind": "demand",
        "external_ref": "zj-d-001",
        "title": "注塑件表面银纹问题攻关",
        "field": "advanced_manufacturing",
        "region": "330200",
        "owner_name": "宁波恒锐汽车部件有限公司",
        "owner_type": "enterprise",
        "description": "PC/ABS门板饰条表面银纹、气泡，返工率8%，希望驻厂解决。",
        "budget_yuan": 200000,
        "cooperation_mode": "service",
        "deadline": "2030-06-30",
        **overrides,
    }


def listing_line(**overrides) -> dict:
    return {
        "kind": "listing",
        "external_ref": "zj-l-001",
        "title": "汽车零部件VOC快速检测方法",
        "field": "new_materials.polymers",
        "region": "310000",
        "owner_name": "上海浦江理工大学",
        "owner_type": "university",
        "summary": "热脱附与气质联用结合电子鼻，快速筛选原材料。",
        "listing_type": "invention_patent",
        "maturity": "pilot",
        "asking_price_yuan": 80000,
        "transfer_modes": ["transfer", "non_exclusive_license"],
        **overrides,
    }


def write(path: Path, *lines) -> Path:
    path.write_text(
        "".join(
            (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines
        ),
        encoding="utf-8",
    )
    return path


def run_import(path: Path, *args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("import_interchange", str(path), *args, stdout=out, stderr=err)
        status = 0
    except CommandError as exc:
        status = exc.returncode
        err.write(f"CommandError: {exc}\n")
    return status, out.getvalue().strip(), err.getvalue()


def run_export(kind: str, path: Path, *args) -> list[dict]:
    call_command("export_interchange", "--kind", kind, *args, str(path), stdout=StringIO(), stderr=StringIO())
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


@pytest.fixture
def queued(monkeypatch):
    """What the import asked the matching engine to redo, recorded when the batch's transaction commits."""
    calls = []
    monkeypatch.setattr(tasks.match_records, "delay", lambda kind, ids: calls.append((kind, sorted(ids))))
    return calls


# --- import: mapping -----------------------------------------------------------------------------------------


def test_it_imports_a_demand_and_a_listing(tmp_path):
    path = write(tmp_path / "in.jsonl", demand_line(), listing_line(unknown_key="ignored"))

    status, out, err = run_import(path)

    assert (status, out, err) == (
        0,
        "created 2, updated 0, unchanged 0, rejected 0; 2 organizations created, pending verification",
        "",
    )
    user = system_user()
    demand = Demand.objects.get()
    assert demand.external_ref == "zj-d-001"
    assert demand.title == "注塑件表面银纹问题攻关"
    assert demand.summary == "PC/ABS门板饰条表面银纹、气泡，返工率8%，希望驻厂解决。"
    assert demand.details == ""
    assert (demand.field_id, demand.sub_field_id, demand.region_id) == (
        "advanced_manufacturing",
        None,
        "330200",
    )
    assert (demand.budget_min, demand.budget_max, demand.budget_negotiable) == (
        Decimal("200000.00"),
        Decimal("200000.00"),
        False,
    )
    assert demand.deadline == end_of_day(date(2030, 6, 30))
    assert demand.cooperation_mode == "service"
    assert demand.mode == Demand.Mode.OPEN
    assert (demand.status, demand.published_at) == (Demand.Status.PENDING_REVIEW, None)
    assert demand.submitted_at is not None
    assert demand.created_by == user
    assert demand.owner.name == "宁波恒锐汽车部件有限公司"
    assert "注塑件表面银纹问题攻关" in demand.search_text
    assert "先进制造" in demand.search_text

    listing = Listing.objects.get()
    assert (listing.external_ref, listing.title) == ("zj-l-001", "汽车零部件VOC快速检测方法")
    assert listing.summary == "热脱附与气质联用结合电子鼻，快速筛选原材料。"
    assert (listing.field_id, listing.sub_field_id) == ("new_materials", "new_materials.polymers")
    assert (listing.listing_type, listing.maturity) == ("invention_patent", "pilot")
    assert (listing.asking_price, listing.price_negotiable) == (Decimal("80000.00"), False)
    assert listing.transfer_modes == ["transfer", "non_exclusive_license"]
    assert (listing.status, listing.created_by) == (Listing.Status.PENDING_REVIEW, user)
    assert "高分子材料" in listing.search_text

    assert not user.is_active
    assert not user.has_usable_password()


def test_null_amounts_are_negotiable_and_a_null_deadline_takes_the_setting(tmp_path, settings):
    settings.INTERCHANGE_DEFAULT_DEADLINE_DAYS = 30
    path = write(
        tmp_path / "in.jsonl",
        demand_line(budget_yuan=None, deadline=None),
        {key: value for key, value in listing_line().items() if key != "asking_price_yuan"},
    )

    assert run_import(path)[0] == 0

    demand = Demand.objects.get()
    assert (demand.budget_min, demand.budget_max, demand.budget_negotiable) == (None, None, True)
    assert demand.deadline == end_of_day(timezone.localdate() + timedelta(days=30))
    listing = Listing.objects.get()
    assert (listing.asking_price, listing.price_negotiable) == (None, True)


def test_a_null_deadline_keeps_an_existing_one(tmp_path):
    run_import(write(tmp_path / "a.jsonl", demand_line(deadline="2030-06-30")))

    status, out, _ = run_import(write(tmp_path / "b.jsonl", demand_line(deadline=None)))

    assert (status, out) == (0, "created 0, updated 0, unchanged 1, rejected 0")
    assert Demand.objects.get().deadline == end_of_day(date(2030, 6, 30))


# --- owners ------------------------------------------------------------------------------------------------


def test_owner_is_created_once_and_reused(tmp_path):
    existing = UniversityFactory(name="Pujiang University of Technology")
    path = write(
        tmp_path / "in.jsonl",
        demand_line(external_ref="d1"),
        demand_line(external_ref="d2", owner_type="other"),  # the type of a known owner is not changed
        listing_line(external_ref="l1", owner_name="宁波恒锐汽车部件有限公司", owner_type="enterprise"),
        # An organization registered on the platform, found whatever the case of its name.
        listing_line(external_ref="l2", owner_name="Pujiang University of Technology"),
        listing_line(external_ref="l3", owner_name="PUJIANG UNIVERSITY OF TECHNOLOGY"),
    )

    assert run_import(path)[0] == 0

    created = Organization.objects.get(name="宁波恒锐汽车部件有限公司")
    assert Organization.objects.count() == 2
    assert set(Demand.objects.values_list("owner", flat=True)) == {created.pk}
    assert list(Listing.objects.order_by("external_ref").values_list("owner", flat=True)) == [
        created.pk,
        existing.pk,
        existing.pk,
    ]
    assert created.org_type == "enterprise"
    assert (created.status, created.credit_code, created.region_id) == (
        Organization.Status.PENDING,
        None,
        "330200",
    )
    assert created.imported_at is not None
    assert created.created_by == system_user()
    assert not created.memberships.exists()
    entries = AuditLog.objects.filter(action="organization.import")
    assert [(e.target_id, e.data["org_type"]) for e in entries] == [(str(created.pk), "enterprise")]
    existing.refresh_from_db()
    assert (existing.org_type, existing.status, existing.imported_at) == ("university", "verified", None)

    # A second file reuses the organization instead of creating another.
    assert run_import(write(tmp_path / "b.jsonl", demand_line(external_ref="d3")))[0] == 0
    assert Organization.objects.count() == 2
    assert AuditLog.objects.filter(action="organization.import").count() == 1


def test_an_imported_enterprise_cannot_be_verified_before_its_credit_code_is_entered(tmp_path, staff_user):
    run_import(write(tmp_path / "in.jsonl", demand_line()))
    organization = Organization.objects.get()

    with pytest.raises(ApplicationError) as error:
        organization_decide(organization=organization, decision="approve", actor=staff_user, reason="核验")

    assert error.value.code == "credit_code_missing"
    organization.refresh_from_db()
    assert organization.status == Organization.Status.PENDING
    # The database holds the same line: verified without a code fails even when written directly.
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.filter(pk=organization.pk).update(status=Organization.Status.VERIFIED)


def test_only_imported_organizations_may_lack_the_credit_code(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        EnterpriseFactory(credit_code=None, pending=True)


# --- idempotency -------------------------------------------------------------------------------------------


def test_reimport_updates_and_does_not_duplicate(tmp_path, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_import(write(tmp_path / "a.jsonl", demand_line(), listing_line()))
    demand, listing = Demand.objects.get(), Listing.objects.get()
    before = demand.updated_at, listing.updated_at
    assert queued == [("demand", [demand.pk]), ("listing", [listing.pk])]

    with django_capture_on_commit_callbacks(execute=True):
        status, out, _ = run_import(
            write(
                tmp_path / "b.jsonl",
                demand_line(title="注塑件银纹与气泡攻关", budget_yuan=None, deadline="2030-09-30"),
                listing_line(asking_price_yuan=None, transfer_modes=["equity"], field="new_energy"),
            )
        )

    assert (status, out) == (0, "created 0, updated 2, unchanged 0, rejected 0")
    assert (Demand.objects.count(), Listing.objects.count(), Organization.objects.count()) == (1, 1, 2)
    demand.refresh_from_db()
    listing.refresh_from_db()
    assert demand.title == "注塑件银纹与气泡攻关"
    assert "注塑件银纹与气泡攻关" in demand.search_text
    assert (demand.budget_min, demand.budget_negotiable) == (None, True)
    assert demand.deadline == end_of_day(date(2030, 9, 30))
    assert (listing.asking_price, listing.price_negotiable, listing.transfer_modes) == (
        None,
        True,
        ["equity"],
    )
    assert (listing.field_id, listing.sub_field_id) == ("new_energy", None)
    assert demand.updated_at > before[0]
    assert listing.updated_at > before[1]
    assert queued[2:] == [("demand", [demand.pk]), ("listing", [listing.pk])]


def test_unchanged_reimport_changes_nothing(tmp_path, queued, django_capture_on_commit_callbacks):
    path = write(tmp_path / "a.jsonl", demand_line(), listing_line())
    run_import(path)
    stamps = list(Demand.objects.values_list("updated_at", flat=True)) + list(
        Listing.objects.values_list("updated_at", flat=True)
    )

    with django_capture_on_commit_callbacks(execute=True):
        status, out, _ = run_import(path)

    assert (status, out) == (0, "created 0, updated 0, unchanged 2, rejected 0")
    assert stamps == list(Demand.objects.values_list("updated_at", flat=True)) + list(
        Listing.objects.values_list("updated_at", flat=True)
    )
    assert queued == []


def test_the_same_ref_twice_in_one_file_ends_with_the_later_line(tmp_path):
    path = write(
        tmp_path / "in.jsonl",
        demand_line(title="第一版"),
        listing_line(),
        demand_line(title="第二版"),
        demand_line(title="第二版"),
    )

    status, out, _ = run_import(path)

    assert (status, out.split(";")[0]) == (0, "created 2, updated 1, unchanged 1, rejected 0")
    assert list(Demand.objects.values_list("title", flat=True)) == ["第二版"]


def test_small_batches_give_the_same_result(tmp_path):
    lines = [json.dumps(demand_line(external_ref=f"d{i}", title=f"需求{i}")) for i in range(5)]
    lines += [json.dumps(listing_line(external_ref=f"l{i}", owner_name=f"大学{i % 2}")) for i in range(5)]

    report = interchange_import(lines, batch_size=2)

    assert (report.created, report.updated, report.unchanged, report.rejected) == (10, 0, 0, 0)
    assert Demand.objects.count() == 5
    assert Listing.objects.count() == 5
    assert Organization.objects.count() == 3
    assert report.organizations_created == 3


# --- rejected lines ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ('{"kind": "demand", "title": ', "invalid JSON (Expecting value at column 28)"),
        ("[1, 2]", "a line must be a JSON object"),
        (demand_line(kind="tender"), "unknown kind 'tender' (expected 'demand' or 'listing')"),
        (demand_line(field="robotics"), "unknown technology field 'robotics'"),
        (demand_line(region="339999"), "unknown region code '339999'"),
        (demand_line(region=330200), "unknown region code 330200"),
        (demand_line(region=["330200"]), "unknown region code ['330200']"),
        (demand_line(budget_yuan=-5), "'budget_yuan' cannot be negative (-5)"),
        (demand_line(budget_yuan="20万"), "'budget_yuan' must be a whole number of yuan or null, not '20万'"),
        (demand_line(budget_yuan=1.5), "'budget_yuan' must be a whole number of yuan or null, not 1.5"),
        (demand_line(deadline="2030-02-30"), "'deadline' is not a valid date: '2030-02-30'"),
        (
            demand_line(deadline="30/06/2030"),
            "'deadline' must be an ISO date (YYYY-MM-DD) or null, not '30/06/2030'",
        ),
        (demand_line(title=""), "missing or empty 'title'"),
        ({k: v for k, v in demand_line().items() if k != "title"}, "missing or empty 'title'"),
        (demand_line(title="长" * 201), "'title' is longer than 200 characters"),
        (demand_line(external_ref=None), "missing or empty 'external_ref'"),
        (demand_line(owner_type="company"), "unknown owner_type 'company'"),
        (demand_line(cooperation_mode="sale"), "unknown cooperation_mode 'sale'"),
        (listing_line(asking_price_yuan=-1), "'asking_price_yuan' cannot be negative (-1)"),
        (listing_line(transfer_modes=[]), "'transfer_modes' must be a non-empty list"),
        (listing_line(transfer_modes="transfer"), "'transfer_modes' must be a non-empty list"),
        (listing_line(transfer_modes=["transfer", "sale"]), "unknown transfer mode 'sale'"),
        (listing_line(maturity="mass"), "unknown maturity 'mass'"),
        (listing_line(listing_type="trademark"), "unknown listing_type 'trademark'"),
    ],
)
def test_a_bad_line_is_reported_with_its_number_and_the_others_still_import(tmp_path, bad, reason):
    path = write(
        tmp_path / "in.jsonl", demand_line(external_ref="ok-1"), bad, "", listing_line(external_ref="ok-2")
    )

    status, out, err = run_import(path)

    assert status == 1
    assert out.startswith("created 2, updated 0, unchanged 0, rejected 1")
    assert err.splitlines() == [
        f"line 2: {reason}",
        "CommandError: 1 line(s) rejected; the valid lines were imported",
    ]
    assert list(Demand.objects.values_list("external_ref", flat=True)) == ["ok-1"]
    assert list(Listing.objects.values_list("external_ref", flat=True)) == ["ok-2"]


def test_every_bad_line_is_reported(tmp_path):
    path = write(
        tmp_path / "in.jsonl", "nonsense", demand_line(), demand_line(field="x"), demand_line(region="1")
    )

    status, out, err = run_import(path)

    assert (status, out.split(";")[0]) == (1, "created 1, updated 0, unchanged 0, rejected 3")
    assert [line.split(":")[0] for line in err.splitlines()[:-1]] == ["line 1", "line 3", "line 4"]


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_interchange", str(tmp_path / "missing.jsonl"), stdout=StringIO())


# --- publication and review --------------------------------------------------------------------------------


def test_publish_publishes_and_without_it_records_wait_for_review(tmp_path):
    run_import(write(tmp_path / "a.jsonl", demand_line(external_ref="d-review")))
    run_import(write(tmp_path / "b.jsonl", demand_line(external_ref="d-pub"), listing_line()), "--publish")

    review = Demand.objects.get(external_ref="d-review")
    published = Demand.objects.get(external_ref="d-pub")
    assert (review.status, review.published_at) == (Demand.Status.PENDING_REVIEW, None)
    assert published.status == Demand.Status.PUBLISHED
    assert published.published_at is not None
    assert Listing.objects.get().status == Listing.Status.PUBLISHED
    # The owner stays pending: publishing imported records is not verifying their owner.
    assert published.owner.status == Organization.Status.PENDING

    # --publish also publishes a record that was waiting for review, even when the line did not change.
    status, out, _ = run_import(
        write(tmp_path / "c.jsonl", demand_line(external_ref="d-review")), "--publish"
    )
    review.refresh_from_db()
    assert (status, out) == (0, "created 0, updated 1, unchanged 0, rejected 0")
    assert review.status == Demand.Status.PUBLISHED
    assert review.published_at is not None
    # Once published, an unchanged line is unchanged, --publish or not.
    status, out, _ = run_import(
        write(tmp_path / "d.jsonl", demand_line(external_ref="d-review")), "--publish"
    )
    assert out == "created 0, updated 0, unchanged 1, rejected 0"


def test_changes_to_a_published_record_without_publish_become_a_revision(tmp_path):
    run_import(write(tmp_path / "a.jsonl", demand_line(), listing_line()), "--publish")
    demand, listing = Demand.objects.get(), Listing.objects.get()
    old_revision = DemandRevision.objects.create(
        demand=demand, changes={"title": "旧"}, submitted_by=system_user()
    )

    status, out, _ = run_import(
        write(
            tmp_path / "b.jsonl",
            demand_line(title="新标题", budget_yuan=300000),
            listing_line(maturity="industrialised"),
        )
    )

    assert (status, out) == (
        0,
        "created 0, updated 2, unchanged 0, rejected 0 (2 of the updates await review as revisions)",
    )
    demand.refresh_from_db()
    listing.refresh_from_db()
    assert (demand.title, demand.budget_max, demand.status) == (
        "注塑件表面银纹问题攻关",
        Decimal("200000.00"),
        "published",
    )
    assert listing.maturity == "pilot"
    revision = DemandRevision.objects.get(status="pending")
    assert revision.changes == {"title": "新标题", "budget_min": "300000", "budget_max": "300000"}
    assert revision.submitted_by == system_user()
    old_revision.refresh_from_db()
    assert old_revision.status == DemandRevision.Status.SUPERSEDED
    assert ListingRevision.objects.get().changes == {"maturity": "industrialised"}


def test_the_owner_of_a_published_record_changes_only_with_publish(tmp_path):
    run_import(write(tmp_path / "a.jsonl", demand_line()), "--publish")
    moved = demand_line(owner_name="台州黄岩精塑模具有限公司")

    status, out, err = run_import(write(tmp_path / "b.jsonl", moved))

    assert status == 1
    assert err.splitlines()[0] == (
        "line 1: demand 'zj-d-001' is on the market and its owner cannot change through a review; "
        "import with --publish if the source platform reviewed it"
    )
    assert Demand.objects.get().owner.name == "宁波恒锐汽车部件有限公司"
    assert not Organization.objects.filter(
        name="台州黄岩精塑模具有限公司"
    ).exists()  # none for a rejected line
    assert run_import(write(tmp_path / "c.jsonl", moved), "--publish")[0] == 0
    assert Demand.objects.get().owner.name == "台州黄岩精塑模具有限公司"


def test_a_record_past_publication_changes_only_with_publish(tmp_path, enterprise):
    closed = DemandFactory(owner=enterprise, closed=True, external_ref="zj-closed")
    line = demand_line(external_ref="zj-closed", owner_name=enterprise.name)

    status, _, err = run_import(write(tmp_path / "in.jsonl", line))

    assert status == 1
    assert err.splitlines()[0] == (
        "line 1: demand 'zj-closed' is closed on this platform; its public record changes only with --publish "
        "(reviewed on the source platform)"
    )
    closed.refresh_from_db()
    assert closed.title != line["title"]
    assert not DemandRevision.objects.exists()
    assert run_import(write(tmp_path / "in.jsonl", line), "--publish")[0] == 0
    closed.refresh_from_db()
    assert (closed.title, closed.status) == (line["title"], Demand.Status.CLOSED)


# --- export and the round trip -----------------------------------------------------------------------------


def test_export_writes_public_records_only_without_details(tmp_path, enterprise, university):
    public = DemandFactory(
        owner=enterprise, details="机密：模温60℃", sub_field_code="advanced_manufacturing.textiles"
    )
    DemandFactory(owner=enterprise, draft=True)
    DemandFactory(owner=enterprise, pending_review=True)
    closed = DemandFactory(owner=enterprise, closed=True, external_ref="zj-closed")
    listing = make_listing(university, details="机密工艺参数")
    make_listing(university, status=Listing.Status.DRAFT)

    demands = run_export("demand", tmp_path / "d.jsonl")
    listings = run_export("listing", tmp_path / "l.jsonl")

    assert [row["external_ref"] for row in demands] == [f"techmarket-demand-{public.pk}", "zj-closed"]
    assert demands[0] == {
        "kind": "demand",
        "external_ref": f"techmarket-demand-{public.pk}",
        "title": public.title,
        "field": "advanced_manufacturing.textiles",
        "region": "330100",
        "owner_name": enterprise.name,
        "owner_type": "enterprise",
        "description": public.summary,
        "budget_yuan": 300000,
        "cooperation_mode": "development",
        "deadline": timezone.localdate(public.deadline).isoformat(),
    }
    assert demands[1]["deadline"] == timezone.localdate(closed.deadline).isoformat()
    assert listings == [
        {
            "kind": "listing",
            "external_ref": f"techmarket-listing-{listing.pk}",
            "title": listing.title,
            "field": "advanced_manufacturing",
            "region": "330100",
            "owner_name": university.name,
            "owner_type": "university",
            "summary": listing.summary,
            "listing_type": "invention_patent",
            "maturity": "pilot",
            "asking_price_yuan": 500000,
            "transfer_modes": ["transfer", "exclusive_license"],
        }
    ]
    text = (tmp_path / "d.jsonl").read_text(encoding="utf-8") + (tmp_path / "l.jsonl").read_text(
        encoding="utf-8"
    )
    assert "机密" not in text
    assert "details" not in text
    assert all(tuple(row) == EXPORT_KEYS["demand"] for row in demands)


def test_export_since_filters_by_last_update_and_dash_is_stdout(enterprise):
    old = DemandFactory(owner=enterprise, external_ref="old")
    new = DemandFactory(owner=enterprise, external_ref="new")
    Demand.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=10))
    since = (timezone.localdate() - timedelta(days=2)).isoformat()

    out = StringIO()
    call_command(
        "export_interchange", "--kind", "demand", "--since", since, "-", stdout=out, stderr=StringIO()
    )

    assert [json.loads(line)["external_ref"] for line in out.getvalue().splitlines()] == [new.external_ref]
    with pytest.raises(CommandError, match="ISO date"):
        call_command("export_interchange", "--kind", "demand", "--since", "yesterday", "-", stdout=StringIO())


def test_reimporting_an_export_updates_instead_of_duplicating(tmp_path, enterprise):
    demand = DemandFactory(owner=enterprise)  # no external_ref: the export generates one
    path = tmp_path / "d.jsonl"
    rows = run_export("demand", path)

    assert run_import(path)[1] == "created 0, updated 0, unchanged 1, rejected 0"
    rows[0]["title"] = "注塑件银纹攻关（修订）"
    status, out, _ = run_import(write(tmp_path / "e.jsonl", rows[0]), "--publish")

    assert (status, out) == (0, "created 0, updated 1, unchanged 0, rejected 0")
    assert list(Demand.objects.values_list("pk", "title")) == [(demand.pk, "注塑件银纹攻关（修订）")]
    demand.refresh_from_db()
    assert demand.external_ref == f"techmarket-demand-{demand.pk}"
    # A platform record keeps what the interchange does not carry.
    assert demand.details.startswith("现用注塑机")
    assert (demand.budget_min, demand.budget_max) == (Decimal("100000.00"), Decimal("300000.00"))


def test_a_generated_ref_names_only_a_record_without_a_ref_of_its_own(tmp_path, enterprise, settings):
    own_ref = DemandFactory(owner=enterprise, external_ref="zj-77")
    lines = [
        demand_line(external_ref=f"techmarket-demand-{own_ref.pk}", owner_name=enterprise.name),
        demand_line(external_ref=f"othermarket-demand-{own_ref.pk}", owner_name=enterprise.name),
    ]

    status, out, _ = run_import(write(tmp_path / "in.jsonl", *lines), "--publish")

    assert (status, out) == (0, "created 2, updated 0, unchanged 0, rejected 0")
    title = own_ref.title
    own_ref.refresh_from_db()
    assert (own_ref.external_ref, own_ref.title) == ("zj-77", title)
    assert Demand.objects.count() == 3
    settings.INTERCHANGE_REF_PREFIX = "zjmarket"
    plain = DemandFactory(owner=enterprise)
    assert run_export("demand", tmp_path / "d.jsonl")[-1]["external_ref"] == f"zjmarket-demand-{plain.pk}"


def test_round_trip_into_an_empty_database_reproduces_the_records(tmp_path, enterprise, university):
    DemandFactory(owner=enterprise, external_ref="zj-1", sub_field_code="advanced_manufacturing.textiles")
    DemandFactory(
        owner=enterprise, budget_min=None, budget_max=None, budget_negotiable=True, region_code="330200"
    )
    DemandFactory(owner=UniversityFactory(), closed=True)
    make_listing(university, asking_price=None, price_negotiable=True, transfer_modes=["equity"])
    make_listing(university, field="new_materials", sub_field="new_materials.polymers", region="310000")
    demands = run_export("demand", tmp_path / "d.jsonl")
    listings = run_export("listing", tmp_path / "l.jsonl")
    assert (len(demands), len(listings)) == (3, 2)

    Demand.objects.all().delete()
    Listing.objects.all().delete()
    Organization.objects.all().delete()
    status, out, _ = run_import(tmp_path / "d.jsonl", "--publish")
    assert (status, out.split(";")[0]) == (0, "created 3, updated 0, unchanged 0, rejected 0")
    assert run_import(tmp_path / "l.jsonl", "--publish")[0] == 0

    assert run_export("demand", tmp_path / "d2.jsonl") == demands
    assert run_export("listing", tmp_path / "l2.jsonl") == listings
    assert Organization.objects.count() == 3


# --- the example files and the API -------------------------------------------------------------------------


def test_the_bench_example_files_import_cleanly(tmp_path):
    demands = run_import(BENCH / "demands_a.jsonl")
    listings = run_import(BENCH / "listings_a.jsonl", "--publish")

    assert demands[0] == 0
    assert demands[1].startswith("created 37, updated 0, unchanged 0, rejected 0")
    assert listings[0] == 0
    assert listings[1].startswith("created 303, updated 0, unchanged 0, rejected 0")
    assert (demands[2], listings[2]) == ("", "")
    assert Demand.objects.count() == 37
    assert Listing.objects.count() == 303


def test_api_external_ref_finds_exactly_the_imported_demand(tmp_path, api_client):
    DemandFactory(external_ref="zj-d-0010")
    run_import(write(tmp_path / "in.jsonl", demand_line(), demand_line(external_ref="zj-d-002")), "--publish")

    rows = api_client.get(DEMANDS, {"external_ref": "zj-d-001"}).json()["results"]

    assert [row["id"] for row in rows] == [Demand.objects.get(external_ref="zj-d-001").pk]


def test_api_external_ref_finds_exactly_the_imported_listing(tmp_path, api_client):
    run_import(
        write(tmp_path / "in.jsonl", listing_line(), listing_line(external_ref="zj-l-0010")), "--publish"
    )

    rows = api_client.get(LISTINGS, {"external_ref": "zj-l-001"}).json()["results"]

    assert [row["id"] for row in rows] == [Listing.objects.get(external_ref="zj-l-001").pk]
    assert rows[0]["external_ref"] == "zj-l-001"


def test_region_of_a_created_owner_is_the_first_line_s(tmp_path):
    run_import(
        write(
            tmp_path / "in.jsonl",
            demand_line(region="330100"),
            demand_line(external_ref="x", region="330200"),
        )
    )

    assert Organization.objects.get().region == get_region("330100")
