"""The record interchange (SPEC §9.1): demands and listings as JSON Lines, imported from and exported to other
regional platforms. ``manage.py import_interchange`` and ``manage.py export_interchange`` are its interfaces.

One JSON object per line, ``"kind": "demand"`` or ``"listing"``:

- common keys: ``external_ref`` (unique per kind), ``title``, ``field`` (a technology field code of SPEC §2,
  or a sub-field code such as ``advanced_manufacturing.moulds_plastics``, which sets the field and the
  sub-field), ``region`` (GB/T 2260 code), ``owner_name``, ``owner_type`` (organization type);
- demand keys: ``description`` (the public summary), ``budget_yuan`` (integer or null: negotiable),
  ``cooperation_mode``, ``deadline`` (ISO date or null);
- listing keys: ``summary``, ``listing_type``, ``maturity``, ``asking_price_yuan`` (integer or null:
  negotiable), ``transfer_modes`` (non-empty list).

Other keys are ignored. A null or missing ``budget_yuan``, ``asking_price_yuan`` or ``deadline`` is null; every
other key is required.

Import rules
------------
- **Idempotent on ``external_ref``.** A line whose ref exists updates that record; a line that would not change
  what the export writes for the record leaves it untouched (no ``updated_at`` churn, no matching work;
  under ``--publish`` a record still waiting for review is published all the same). Lines
  apply in file order: a ref repeated in one file ends as its last line says, and the counts are those of
  applying each line in turn.
- **Deadlines.** A date is a day: a new demand's deadline is the end of that day (platform time zone); an
  existing deadline on the same day is kept as it is. A null deadline gives a new demand
  ``INTERCHANGE_DEFAULT_DEADLINE_DAYS`` (setting, default 90) from the import; an existing demand keeps its
  deadline. Past deadlines are accepted: the record may be a closed one from the source platform.
- **Budgets and prices.** ``budget_yuan`` becomes both ends of the budget range; null makes the budget
  negotiable (and so does a null ``asking_price_yuan`` for the price).
- **Owners.** The owner is the organization with that name (names are unique regardless of case on the
  platform, so matching is case-insensitive); the line's ``owner_type`` does not change an existing
  organization. A missing one is created with the given type and the line's region, ``created_by`` the
  system user, ``imported_at`` set and an ``organization.import`` audit entry. It stays ``pending``: only an
  administrator verifies an organization, from its documents (SPEC §3), and an import carries none. The
  interchange format carries no unified social credit code, so an imported enterprise, institute or
  intermediary has none; the database allows that only for imported organizations that are not verified, and
  ``organization_decide`` refuses to verify one until an administrator has entered its code. Such an
  organization has no members, so nobody acts for it (bids, intents, contracts) before it is claimed and
  verified; its records are still shown once published.
- **Status.** New records wait in ``pending_review`` for the platform's reviewers. ``--publish`` (the records
  were reviewed on the platform they came from) publishes them instead, and publishes existing records still
  in draft, pending review or rejected. "Only verified organizations publish" governs members acting on the
  website; ``--publish`` is an operator's decision about records reviewed elsewhere, so it does not wait for
  the owner's verification.
- **Changes to a record on the market** (published or later) apply in place under ``--publish``. Without it,
  changes to a published record become a pending revision (``DemandRevision`` / ``ListingRevision``,
  superseding an older pending one), exactly like an owner's edit: the public version stays until a reviewer
  approves. A changed owner cannot be a revision, and a record past publication (closed, awarded, transferred,
  …) has no review of edits, so such lines are rejected unless ``--publish`` is given. Changes to a record off the market
  (draft, pending review, rejected, withdrawn, expired) apply in place; a changed draft or rejected record goes
  (back) to review.
- **Speed.** The file is streamed and validated line by line; valid lines are written in batches
  (``BATCH_SIZE``): one query finds the batch's existing refs, ``bulk_create`` adds the new records and
  ``bulk_update`` the changed ones, each batch (with its new owners) in one transaction. Owners and the
  reference tables are cached in dicts. After each committed batch ``brokers.hooks.records_changed`` queues
  the matching engine's work for the created and updated ids. No per-record service runs in the loop.

Export rules
------------
Public records only (published or later: never drafts, rejected or withdrawn ones) and never confidential
details: a demand's ``description`` is its public summary. Ordered by id, streamed. Records without an
``external_ref`` get a stable one, ``techmarket-demand-<id>`` / ``techmarket-listing-<id>``
(``generated_ref``; the prefix is the ``INTERCHANGE_REF_PREFIX`` setting). Importing such a line back into this
platform finds the record with that id (if it still has no ref of its own), updates it rather than creating a
copy, and stores the ref on it when it changes. Platforms running this software and exchanging records with
each other must set different prefixes, or one's generated refs would name the other's records. ``budget_yuan`` is the upper end of the range (or the lower end if only that
is set), null when negotiable without figures; amounts are whole yuan; ``field`` is the sub-field code when
there is one; ``deadline`` the day of the deadline in the platform time zone.
"""

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from brokers.hooks import records_changed
from demands.models import PUBLIC_STATUSES as DEMAND_PUBLIC_STATUSES
from demands.models import Demand, DemandRevision, DemandStatus
from listings.models import Listing, ListingRevision, ListingStatus
from listings.selectors import PUBLIC_STATUSES as LISTING_PUBLIC_STATUSES
from marketplace.models import AuditLog, Organization, Region, TechnologyField, User
from marketplace.records import jsonable, search_text
from marketplace.services import audit_log
from marketplace.taxonomy import CooperationMode, ListingType, Maturity, OrganizationType, TransferMode

KINDS = ("demand", "listing")
COMMON_KEYS = ("external_ref", "title", "field", "region", "owner_name", "owner_type")
KIND_KEYS = {
    "demand": ("description", "budget_yuan", "cooperation_mode", "deadline"),
    "listing": ("summary", "listing_type", "maturity", "asking_price_yuan", "transfer_modes"),
}
EXPORT_KEYS = {kind: ("kind", *COMMON_KEYS, *keys) for kind, keys in KIND_KEYS.items()}

# 2,000 lines per transaction: big enough that the per-batch queries (existing refs, owners, one INSERT per
# 2,000 rows) cost little per record, small enough that a batch's rows and SQL stay a few MB and a failure
# or a lock holds back little work.
BATCH_SIZE = 2000
SYSTEM_USERNAME = "interchange"
SYSTEM_EMAIL = "interchange@system.invalid"

# DecimalField(max_digits=14, decimal_places=2): whole yuan below 10^12.
MAX_AMOUNT = 10**12 - 1
MAX_LENGTH = {"external_ref": 100, "title": 200, "owner_name": 120}

FOREIGN_KEYS = ("field", "sub_field", "region")
MODELS = {"demand": Demand, "listing": Listing}
REVISIONS = {"demand": (DemandRevision, "demand"), "listing": (ListingRevision, "listing")}
STATUS = {"demand": DemandStatus, "listing": ListingStatus}
# Off the market and editable in place; a changed one goes (back) to review.
REVIEWABLE = ("draft", "pending_review", "rejected")
ON_MARKET = {"demand": tuple(DEMAND_PUBLIC_STATUSES), "listing": tuple(LISTING_PUBLIC_STATUSES)}
# The record fields the interchange writes (besides owner, status and dates).
CONTENT_FIELDS = {
    "demand": (
        "title",
        "summary",
        "field",
        "sub_field",
        "region",
        "budget_min",
        "budget_max",
        "budget_negotiable",
        "deadline",
        "cooperation_mode",
    ),
    "listing": (
        "title",
        "summary",
        "field",
        "sub_field",
        "region",
        "listing_type",
        "maturity",
        "asking_price",
        "price_negotiable",
        "transfer_modes",
    ),
}


class LineError(ValueError):
    """A line that cannot be imported; the message is the reason reported with its line number."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    # Of ``updated``: changes to records on the market stored as revisions awaiting review.
    revisions: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    organizations_created: int = 0

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"rejected {self.rejected}"
        )


@dataclass
class Record:
    """One valid line, in model terms."""

    line: int
    kind: str
    ref: str
    owner_name: str
    owner_type: str
    values: dict  # CONTENT_FIELDS of the kind; deadline as a date (or None), not yet a datetime
    exported: dict  # the line as the export would write it (for the "unchanged" comparison)


# --- reference data ------------------------------------------------------------------------------------------


class _References:
    """The technology fields and regions, loaded once (a few hundred rows) instead of per line."""

    def __init__(self) -> None:
        self.fields = {row.code: row for row in TechnologyField.objects.all()}
        self.regions = set(Region.objects.values_list("code", flat=True))


def system_user() -> User:
    """The user that imported records and organizations are created by; made once, cannot log in."""
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is not None:
        return user
    user = User(username=SYSTEM_USERNAME, email=SYSTEM_EMAIL, full_name="Record interchange", is_active=False)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a concurrent import made it first
        user = User.objects.get(username=SYSTEM_USERNAME)
    return user


# --- parsing and validation ----------------------------------------------------------------------------------


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LineError(f"missing or empty {key!r}")
    value = value.strip()
    limit = MAX_LENGTH.get(key)
    if limit and len(value) > limit:
        raise LineError(f"{key!r} is longer than {limit} characters")
    return value


# Codes per choice list, computed once: ``TextChoices.values`` rebuilds its list on every access.
CODES = {
    choices: frozenset(choices.values)
    for choices in (CooperationMode, ListingType, Maturity, OrganizationType, TransferMode)
}


def _choice(data: dict, key: str, choices) -> str:
    value = _text(data, key)
    if value not in CODES[choices]:
        raise LineError(f"unknown {key} {value!r}")
    return value


def _amount(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    # bool is an int in Python; true/false is not an amount.
    if isinstance(value, bool) or not isinstance(value, int):
        raise LineError(f"{key!r} must be a whole number of yuan or null, not {value!r}")
    if value < 0:
        raise LineError(f"{key!r} cannot be negative ({value})")
    if value > MAX_AMOUNT:
        raise LineError(f"{key!r} is too large ({value})")
    return value


def _date(data: dict, key: str) -> date | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise LineError(f"{key!r} must be an ISO date (YYYY-MM-DD) or null, not {value!r}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise LineError(f"{key!r} is not a valid date: {value!r}") from None


def parse_line(text: str, *, line: int, references: _References) -> Record:
    """Validate one line and map it to model values. Raises ``LineError`` with the reason."""
    try:
        data = json.loads(text.strip())
    except json.JSONDecodeError as exc:
        raise LineError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise LineError("a line must be a JSON object")
    kind = data.get("kind")
    if kind not in KINDS:
        raise LineError(f"unknown kind {kind!r} (expected 'demand' or 'listing')")
    ref = _text(data, "external_ref")
    title = _text(data, "title")
    owner_name = _text(data, "owner_name")
    owner_type = _choice(data, "owner_type", OrganizationType)

    field_code = _text(data, "field")
    row = references.fields.get(field_code)
    if row is None:
        raise LineError(f"unknown technology field {field_code!r}")
    technology_field, sub_field = (references.fields[row.parent_id], row) if row.parent_id else (row, None)
    region = data.get("region")
    if not isinstance(region, str) or region.strip() not in references.regions:
        raise LineError(f"unknown region code {region!r}")
    region = region.strip()

    values = {
        "title": title,
        "field": technology_field,
        "sub_field": sub_field,
        "region_id": region,
    }
    exported = {
        "kind": kind,
        "external_ref": ref,
        "title": title,
        "field": field_code,
        "region": region,
    }
    if kind == "demand":
        summary = _text(data, "description")
        budget = _amount(data, "budget_yuan")
        values |= {
            "summary": summary,
            "budget_min": None if budget is None else Decimal(budget),
            "budget_max": None if budget is None else Decimal(budget),
            "budget_negotiable": budget is None,
            "cooperation_mode": _choice(data, "cooperation_mode", CooperationMode),
            "deadline": _date(data, "deadline"),
        }
        exported |= {
            "description": summary,
            "budget_yuan": budget,
            "cooperation_mode": values["cooperation_mode"],
            "deadline": values["deadline"].isoformat() if values["deadline"] else None,
        }
    else:
        summary = _text(data, "summary")
        price = _amount(data, "asking_price_yuan")
        modes = data.get("transfer_modes")
        if not isinstance(modes, list) or not modes:
            raise LineError("'transfer_modes' must be a non-empty list")
        unknown = [mode for mode in modes if not isinstance(mode, str) or mode not in CODES[TransferMode]]
        if unknown:
            raise LineError(f"unknown transfer mode {unknown[0]!r}")
        modes = list(dict.fromkeys(modes))
        values |= {
            "summary": summary,
            "listing_type": _choice(data, "listing_type", ListingType),
            "maturity": _choice(data, "maturity", Maturity),
            "asking_price": None if price is None else Decimal(price),
            "price_negotiable": price is None,
            "transfer_modes": modes,
        }
        exported |= {
            "summary": summary,
            "listing_type": values["listing_type"],
            "maturity": values["maturity"],
            "asking_price_yuan": price,
            "transfer_modes": modes,
        }
    return Record(line, kind, ref, owner_name, owner_type, values, exported)


# --- the export form of a stored record ----------------------------------------------------------------------


def generated_ref(kind: str, pk: int) -> str:
    """The ref the export gives a record that has none: ``<INTERCHANGE_REF_PREFIX>-<kind>-<id>``."""
    return f"{settings.INTERCHANGE_REF_PREFIX}-{kind}-{pk}"


def generated_ref_id(kind: str, ref: str) -> int | None:
    """The id in a ref ``generated_ref`` made on this platform, else None."""
    match = re.fullmatch(rf"{re.escape(settings.INTERCHANGE_REF_PREFIX)}-{kind}-([1-9][0-9]{{0,17}})", ref)
    return int(match.group(1)) if match else None


def _whole_yuan(amount: Decimal | None) -> int | None:
    return None if amount is None else int(amount)


def _content(kind: str, record) -> dict:
    """The interchange keys of a stored record that a line can change (everything but the owner)."""
    content = {
        "title": record.title,
        "field": record.sub_field_id or record.field_id,
        "region": record.region_id,
    }
    if kind == "demand":
        budget = record.budget_max if record.budget_max is not None else record.budget_min
        content |= {
            "description": record.summary,
            "budget_yuan": _whole_yuan(budget),
            "cooperation_mode": record.cooperation_mode,
            "deadline": timezone.localdate(record.deadline).isoformat(),
        }
    else:
        content |= {
            "summary": record.summary,
            "listing_type": record.listing_type,
            "maturity": record.maturity,
            "asking_price_yuan": _whole_yuan(record.asking_price),
            "transfer_modes": list(record.transfer_modes or []),
        }
    return content


def _same_owner(record: Record, existing) -> bool:
    """``existing`` comes with ``owner_lower_name`` (annotated): organization names are unique regardless of case."""
    return existing.owner_lower_name == record.owner_name.lower()


def _is_unchanged(record: Record, existing) -> bool:
    if not _same_owner(record, existing):
        return False
    ours = _content(record.kind, existing)
    theirs = {key: record.exported[key] for key in ours}
    if record.kind == "demand" and theirs["deadline"] is None:
        theirs["deadline"] = ours["deadline"]  # a null deadline never moves an existing one
    return ours == theirs


# --- import --------------------------------------------------------------------------------------------------


def _end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


def _deadline(day: date | None, *, existing: datetime | None, now: datetime) -> datetime:
    if day is None:
        if existing is not None:
            return existing
        return _end_of_day(
            timezone.localdate(now) + timedelta(days=settings.INTERCHANGE_DEFAULT_DEADLINE_DAYS)
        )
    if existing is not None and timezone.localdate(existing) == day:
        return existing
    return _end_of_day(day)


class _Importer:
    def __init__(self, *, publish: bool, source: str, batch_size: int) -> None:
        self.publish = publish
        self.source = source
        self.batch_size = batch_size
        self.references = _References()
        self.user = system_user()
        self.owners: dict[str, int] = {}  # lower-cased name → organization id (committed ones only)
        self.report = ImportReport()

    # Owners ----------------------------------------------------------------------------------------------

    def _resolve_owners(self, records: list[Record]) -> dict[str, int]:
        """Ids of the batch's owners by lower-cased name, creating the missing ones (inside the batch's
        transaction: the caller adds them to the cache only after the commit)."""
        found = {}
        wanted: dict[str, Record] = {}
        for record in records:
            key = record.owner_name.lower()
            if key in self.owners:
                found[key] = self.owners[key]
            else:
                wanted.setdefault(key, record)
        if not wanted:
            return found
        for pk, name in (
            Organization.objects.annotate(lower_name=Lower("name"))
            .filter(lower_name__in=list(wanted))
            .values_list("pk", "lower_name")
        ):
            found[name] = pk
        missing = [record for key, record in wanted.items() if key not in found]
        if missing:
            now = timezone.now()
            organizations = [
                Organization(
                    name=record.owner_name,
                    org_type=record.owner_type,
                    region_id=record.values["region_id"],
                    created_by=self.user,
                    status=Organization.Status.PENDING,
                    status_changed_at=now,
                    imported_at=now,
                )
                for record in missing
            ]
            try:
                with transaction.atomic():
                    Organization.objects.bulk_create(organizations)
            except IntegrityError:
                # Another import (or a registration) created one of these names meanwhile: create one by one,
                # reusing the winner's row.
                organizations = [self._create_owner(org) for org in organizations]
            created = [org for org in organizations if org.imported_at == now]
            AuditLog.objects.bulk_create(
                AuditLog(
                    actor=self.user,
                    action="organization.import",
                    target_type=Organization._meta.label_lower,
                    target_id=str(org.pk),
                    target_repr=org.name[:200],
                    data={"source": self.source, "org_type": org.org_type},
                )
                for org in created
            )
            self.report.organizations_created += len(created)
            for org in organizations:
                found[org.name.lower()] = org.pk
        return found

    def _create_owner(self, organization: Organization) -> Organization:
        try:
            with transaction.atomic():
                organization.save()
                return organization
        except IntegrityError:
            return Organization.objects.get(name__iexact=organization.name)

    # Batches ---------------------------------------------------------------------------------------------

    def run(self, lines: Iterable[str]) -> ImportReport:
        batch: dict[tuple[str, str], Record] = {}
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue  # blank lines (a trailing newline) are not records
            try:
                record = parse_line(text, line=number, references=self.references)
            except LineError as exc:
                self.reject(number, str(exc))
                continue
            key = (record.kind, record.ref)
            if key in batch:
                # The same ref again: apply the earlier line first, so lines take effect in file order.
                self.flush(batch)
                batch = {}
            batch[key] = record
            if len(batch) >= self.batch_size:
                self.flush(batch)
                batch = {}
        if batch:
            self.flush(batch)
        audit_log(
            actor=self.user,
            action="interchange.import",
            target=self.user,
            data={
                "source": self.source,
                "publish": self.publish,
                "created": self.report.created,
                "updated": self.report.updated,
                "unchanged": self.report.unchanged,
                "rejected": self.report.rejected,
                "organizations_created": self.report.organizations_created,
            },
        )
        return self.report

    def reject(self, line: int, reason: str) -> None:
        self.report.rejected += 1
        self.report.errors.append((line, reason))

    def flush(self, batch: dict[tuple[str, str], Record]) -> None:
        for kind in KINDS:
            records = [record for (k, _ref), record in batch.items() if k == kind]
            if records:
                self.flush_kind(kind, records)

    def flush_kind(self, kind: str, records: list[Record]) -> None:
        """Write one kind's lines of a batch in one transaction; count them once it committed."""
        model = MODELS[kind]
        unchanged = 0
        rejected: list[tuple[int, str]] = []
        to_create: list[Record] = []
        to_apply: list[tuple[Record, object]] = []
        to_revise: list[tuple[Record, object]] = []
        with transaction.atomic():
            # The owner's lower-cased name comes along (one join, one column): deciding what each line does
            # needs it, and no organization is created for a line that ends up rejected.
            existing = {
                row.external_ref: row
                for row in model.objects.filter(external_ref__in=[record.ref for record in records]).annotate(
                    owner_lower_name=Lower("owner__name")
                )
            }
            # A ref our export generated names the record with that id, as long as it still has no ref of
            # its own: exported and imported back, it updates the record instead of copying it.
            generated = {
                pk: record.ref
                for record in records
                if record.ref not in existing and (pk := generated_ref_id(kind, record.ref)) is not None
            }
            if generated:
                for row in model.objects.filter(pk__in=list(generated), external_ref__isnull=True).annotate(
                    owner_lower_name=Lower("owner__name")
                ):
                    existing[generated[row.pk]] = row
            for record in records:
                row = existing.get(record.ref)
                if row is None:
                    to_create.append(record)
                elif _is_unchanged(record, row) and not (self.publish and row.status in REVIEWABLE):
                    unchanged += 1
                elif row.status in ON_MARKET[kind] and not self.publish:
                    if reason := _revision_refusal(kind, record, row):
                        rejected.append((record.line, reason))
                    else:
                        to_revise.append((record, row))
                else:
                    to_apply.append((record, row))
            writing = to_create + [record for record, _row in to_apply]
            owners = self._resolve_owners(writing)
            for record in writing:
                record.values["owner_id"] = owners[record.owner_name.lower()]
            now = timezone.now()
            new = [self._build(kind, record, now) for record in to_create]
            changed = [self._apply(kind, record, row, now) for record, row in to_apply]
            revisions = [self._revision(kind, record, row) for record, row in to_revise]
            model.objects.bulk_create(new)
            fields = [
                *CONTENT_FIELDS[kind],
                "external_ref",
                "owner",
                "search_text",
                "status",
                "submitted_at",
                "published_at",
                "updated_at",
            ]
            _update_rows(model, changed, fields)
            if revisions:
                revision_model, link = REVISIONS[kind]
                revision_model.objects.filter(
                    **{f"{link}__in": [row.pk for _record, row in to_revise]},
                    status=revision_model.Status.PENDING,
                ).update(status=revision_model.Status.SUPERSEDED, updated_at=now)
                revision_model.objects.bulk_create(revisions)
            records_changed(kind=kind, ids=[row.pk for row in new] + [row.pk for row in changed])
        # Committed: the new owners are real now, and so are the counts.
        for record in writing:
            self.owners.setdefault(record.owner_name.lower(), record.values["owner_id"])
        self.report.created += len(new)
        self.report.updated += len(changed) + len(revisions)
        self.report.revisions += len(revisions)
        self.report.unchanged += unchanged
        for line, reason in rejected:
            self.reject(line, reason)

    def _initial_status(self, kind: str, now: datetime) -> dict:
        status = STATUS[kind]
        if self.publish:
            return {"status": status.PUBLISHED, "submitted_at": now, "published_at": now}
        return {"status": status.PENDING_REVIEW, "submitted_at": now, "published_at": None}

    def _model_values(self, kind: str, record: Record, *, existing, now: datetime) -> dict:
        """The line's model values. What the line says the same way the export would write the stored record
        keeps the stored precision: a deadline on the same day, a budget range whose upper end is the
        line's figure, a price with fen that rounds to it."""
        values = dict(record.values)
        ours = _content(kind, existing) if existing is not None else {}
        if kind == "demand":
            values["deadline"] = _deadline(
                values["deadline"], existing=existing.deadline if existing else None, now=now
            )
            if existing is not None and ours["budget_yuan"] == record.exported["budget_yuan"]:
                for key in ("budget_min", "budget_max", "budget_negotiable"):
                    values[key] = getattr(existing, key)
        elif existing is not None and ours["asking_price_yuan"] == record.exported["asking_price_yuan"]:
            for key in ("asking_price", "price_negotiable"):
                values[key] = getattr(existing, key)
        return values

    def _build(self, kind: str, record: Record, now: datetime):
        values = self._model_values(kind, record, existing=None, now=now)
        row = MODELS[kind](
            external_ref=record.ref,
            created_by=self.user,
            **values,
            **self._initial_status(kind, now),
        )
        row.search_text = _search_text(kind, row)
        return row

    def _apply(self, kind: str, record: Record, row, now: datetime):
        row.external_ref = record.ref  # a record found by a generated ref keeps it from now on
        for key, value in self._model_values(kind, record, existing=row, now=now).items():
            setattr(row, key, value)
        if row.status in REVIEWABLE:
            # Changed content is reviewed again here, unless the source platform reviewed it (--publish).
            for key, value in self._initial_status(kind, now).items():
                if key != "published_at" or value is not None:
                    setattr(row, key, value)
        # The cached field rows carry the names search_text needs (no query per record).
        row.search_text = _search_text(kind, row)
        row.updated_at = now
        return row

    def _revision(self, kind: str, record: Record, row):
        """A pending revision with the fields that differ, in the JSON form the review services read."""
        values = self._model_values(kind, record, existing=row, now=timezone.now())
        changes = {}
        for key in CONTENT_FIELDS[kind]:
            attname = f"{key}_id" if key in FOREIGN_KEYS else key
            if key in ("field", "sub_field"):
                new_value = values[key].pk if values[key] is not None else None
            else:
                new_value = values[attname]
            if jsonable(getattr(row, attname)) != jsonable(new_value):
                changes[key] = jsonable(new_value)
        revision_model, link = REVISIONS[kind]
        return revision_model(**{f"{link}_id": row.pk}, changes=changes, submitted_by=self.user)


def _update_rows(model, rows: list, fields: list[str]) -> None:
    """Write ``fields`` of ``rows`` back, one statement per 500 rows.

    On PostgreSQL one ``UPDATE … FROM (VALUES …)`` joins the new values by id. Django's ``bulk_update`` writes
    ``CASE WHEN id = … THEN …`` per field instead, which PostgreSQL evaluates branch by branch for each row:
    quadratic in the batch, and in the benchmark it made 2,000 changed listings take seconds."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(rows, fields, batch_size=500)
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    row_sql = "(%s, " + ", ".join(f"%s::{column.db_type(connection)}" for column in columns) + ")"
    assignments = ", ".join(f"{quote(column.column)} = v.{quote(column.column)}" for column in columns)
    names = ", ".join(["id", *(quote(column.column) for column in columns)])
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            params = []
            for row in chunk:
                params.append(row.pk)
                params.extend(
                    column.get_db_prep_save(getattr(row, column.attname), connection) for column in columns
                )
            cursor.execute(
                f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
                f"FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS v({names}) WHERE t.id = v.id",
                params,
            )


def _revision_refusal(kind: str, record: Record, row) -> str | None:
    """Why a change to a public record cannot wait for review as a revision (None when it can)."""
    if row.status != "published":
        # Revisions are reviewed against a published record only; a closed or transferred one is history.
        return (
            f"{kind} {record.ref!r} is {row.status} on this platform; its public record changes only with "
            "--publish (reviewed on the source platform)"
        )
    if not _same_owner(record, row):
        return (
            f"{kind} {record.ref!r} is on the market and its owner cannot change through a review; "
            "import with --publish if the source platform reviewed it"
        )
    return None


def _search_text(kind: str, row) -> str:
    return search_text(row, row.scenarios) if kind == "listing" else search_text(row)


def interchange_import(
    lines: Iterable[str], *, publish: bool = False, source: str = "", batch_size: int = BATCH_SIZE
) -> ImportReport:
    """Import JSON Lines (an iterable of lines, e.g. an open file: it is streamed). See the module docstring.

    Invalid lines are counted and listed in the report (line number, reason); valid lines are imported
    regardless. Each batch commits on its own, so an interrupted import keeps the batches before it, and
    running the same file again completes it (re-imported lines are unchanged)."""
    return _Importer(publish=publish, source=source, batch_size=batch_size).run(lines)


# --- export --------------------------------------------------------------------------------------------------


def interchange_export_rows(*, kind: str, since: date | None = None) -> Iterator[dict]:
    """The public records of ``kind`` as interchange objects, by id; ``since`` keeps those updated on or
    after that day (platform time zone). Streams with ``.iterator()``: memory stays flat on any size."""
    if kind not in KINDS:
        raise ValueError(f"unknown record kind: {kind!r}")
    queryset = (
        MODELS[kind]
        .objects.filter(status__in=ON_MARKET[kind])
        .select_related("owner")
        .only(
            "id",
            "external_ref",
            "owner__name",
            "owner__org_type",
            *CONTENT_FIELDS[kind],
        )
        .order_by("id")
    )
    if since is not None:
        queryset = queryset.filter(updated_at__gte=_start_of_day(since))
    for row in queryset.iterator(chunk_size=2000):
        content = _content(kind, row)
        yield {
            "kind": kind,
            "external_ref": row.external_ref or generated_ref(kind, row.pk),
            "title": content.pop("title"),
            "field": content.pop("field"),
            "region": content.pop("region"),
            "owner_name": row.owner.name,
            "owner_type": row.owner.org_type,
            **content,
        }


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def interchange_export(out, *, kind: str, since: date | None = None) -> int:
    """Write the export to a text stream, one object per line; returns the number of lines."""
    count = 0
    for row in interchange_export_rows(kind=kind, since=since):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count
