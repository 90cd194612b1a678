"""Registered technology contracts (认定登记) and the reference figures the annual statistics need (SPEC §7, §8).

``Registration`` is the statistical record of one registered contract, whether it came from a registration
office's CSV (SPEC §9.2, ``contracts.registry``) or, later, from a contract registered on the platform. It is
shaped for the annual report: one ``GROUP BY`` pass over a year's rows (``registered_on`` range, indexed)
gives every table of the report, because each grouping key is a plain code column of the row itself:

- contract type, seller type, buyer type, objective and plan level are short codes checked against their code
  lists (``marketplace.taxonomy``) by ``CHECK`` constraints;
- the technology field is always one of the 11 national fields (``field``); a finer sub-field, when the source
  gave one, is kept apart (``sub_field``);
- seller and buyer regions are GB/T 2260 codes as given (city or province), and their provinces are stored
  next to them (``seller_province``, ``buyer_province``, equal to the first two digits + ``0000`` by a ``CHECK``
  constraint), so the by-province tables and the flows group on columns, not on expressions.

Region and field codes are foreign keys for the ORM (labels, admin) but not foreign-key constraints in the
database: PostgreSQL checks a foreign key row by row, which made a million-row import four times slower
(docs/performance.md). They are enforced instead by statement-level triggers (migration 0002) that check the
new rows of each ``INSERT``/``UPDATE`` statement against the reference tables in one join. Other statement-level
triggers (migration 0004) keep ``RegistrationSummary``, the counts and sums the annual report reads.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Left
from django.utils.translation import gettext_lazy as _

from marketplace.models import TimeStampedModel
from marketplace.taxonomy import BuyerType, ContractType, Objective, PlanLevel, SellerType

# DecimalField(max_digits=16, decimal_places=2): below 10^14 yuan, far above any single contract.
AMOUNT_MAX_DIGITS = 16
REGISTRATION_NO_MAX_LENGTH = 32
TITLE_MAX_LENGTH = 300
PARTY_NAME_MAX_LENGTH = 200
# Statistical years: figures, reports and the pages and API that name a year.
FIRST_YEAR, LAST_YEAR = 1949, 2100
# The national total in GDP figures; not a GB/T 2260 division, so not a Region row.
NATIONAL_REGION_CODE = "000000"


class RegistrationSource(models.TextChoices):
    IMPORTED = "imported", _("Imported (CSV)")
    PLATFORM = "platform", _("Registered on the platform")


def _province_of(column: str):
    return Concat(Left(column, 2), Value("0000"), output_field=models.CharField())


class Registration(TimeStampedModel):
    """One registered technology contract as the statistics count it."""

    Source = RegistrationSource

    id = models.BigAutoField(primary_key=True)
    # Without the base class's index: nothing lists registrations by creation, and every index costs the
    # import of a million rows a second or two.
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    registration_no = models.CharField(_("registration number"), max_length=REGISTRATION_NO_MAX_LENGTH)
    registered_on = models.DateField(_("registered on"))
    contract_type = models.CharField(_("contract type"), max_length=16, choices=ContractType.choices)
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH, blank=True)
    seller_name = models.CharField(_("seller"), max_length=PARTY_NAME_MAX_LENGTH, blank=True)
    seller_type = models.CharField(_("seller type"), max_length=24, choices=SellerType.choices)
    seller_region = models.ForeignKey(
        "marketplace.Region",
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("seller region"),
    )
    seller_province = models.ForeignKey(
        "marketplace.Region",
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("seller province"),
    )
    buyer_name = models.CharField(_("buyer"), max_length=PARTY_NAME_MAX_LENGTH, blank=True)
    buyer_type = models.CharField(_("buyer type"), max_length=24, choices=BuyerType.choices)
    buyer_region = models.ForeignKey(
        "marketplace.Region",
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("buyer region"),
    )
    buyer_province = models.ForeignKey(
        "marketplace.Region",
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("buyer province"),
    )
    total_amount = models.DecimalField(
        _("total amount (yuan)"), max_digits=AMOUNT_MAX_DIGITS, decimal_places=2
    )
    technology_amount = models.DecimalField(
        _("technology transaction amount (yuan)"), max_digits=AMOUNT_MAX_DIGITS, decimal_places=2
    )
    field = models.ForeignKey(
        "marketplace.TechnologyField",
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("technology field"),
    )
    sub_field = models.ForeignKey(
        "marketplace.TechnologyField",
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sub-field"),
    )
    objective = models.CharField(_("socio-economic objective"), max_length=24, choices=Objective.choices)
    plan_level = models.CharField(_("plan level"), max_length=12, choices=PlanLevel.choices)
    source = models.CharField(
        _("source"), max_length=12, choices=RegistrationSource.choices, default=RegistrationSource.IMPORTED
    )
    # When an import last wrote the row (created or changed it); an unchanged re-import leaves it alone.
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    # The contract registered on the platform that this row counts. It becomes a one-to-one foreign key to
    # the platform's contract model when that model exists; the column keeps its name.
    platform_contract_id = models.BigIntegerField(_("platform contract"), null=True, blank=True)

    class Meta:
        ordering = ["-registered_on", "-id"]
        verbose_name = _("contract registration")
        verbose_name_plural = _("contract registrations")
        constraints = [
            models.UniqueConstraint(fields=["registration_no"], name="registration_unique_no"),
            models.UniqueConstraint(
                fields=["platform_contract_id"],
                condition=Q(platform_contract_id__isnull=False),
                name="registration_unique_platform_contract",
            ),
            models.CheckConstraint(condition=~Q(registration_no=""), name="registration_no_not_empty"),
            models.CheckConstraint(
                condition=Q(contract_type__in=ContractType.values), name="registration_contract_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(seller_type__in=SellerType.values), name="registration_seller_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(buyer_type__in=BuyerType.values), name="registration_buyer_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(objective__in=Objective.values), name="registration_objective_valid"
            ),
            models.CheckConstraint(
                condition=Q(plan_level__in=PlanLevel.values), name="registration_plan_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=RegistrationSource.values), name="registration_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(total_amount__gte=0) & Q(technology_amount__gte=0),
                name="registration_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(technology_amount__lte=F("total_amount")),
                name="registration_technology_amount_within_total",
            ),
            models.CheckConstraint(
                condition=Q(seller_province=_province_of("seller_region")),
                name="registration_seller_province_of_region",
            ),
            models.CheckConstraint(
                condition=Q(buyer_province=_province_of("buyer_region")),
                name="registration_buyer_province_of_region",
            ),
            models.CheckConstraint(
                condition=Q(source=RegistrationSource.PLATFORM) | Q(imported_at__isnull=False),
                name="registration_imported_has_time",
            ),
            models.CheckConstraint(
                condition=Q(source=RegistrationSource.IMPORTED) | Q(platform_contract_id__isnull=False),
                name="registration_platform_has_contract",
            ),
        ]
        indexes = [
            # The annual report, the admin's list and its year filter: one range scan per year. The grouping
            # columns get no index of their own: the report reads all of a year's rows in one pass, where an
            # index does not help, and each index on a code column (whose values arrive in no order) cost the
            # import of a million rows about 7 s (docs/performance.md). A province's rows of a year are found
            # through this index too (the year first, then the 31 provinces' rows filtered).
            models.Index(fields=["registered_on"], name="registration_registered_on"),
            # The few platform rows an import must not overwrite, found without scanning the imported ones.
            models.Index(
                fields=["registration_no"],
                condition=Q(source=RegistrationSource.PLATFORM),
                name="registration_platform_no",
            ),
        ]

    def __str__(self) -> str:
        return self.registration_no


class GdpFigure(TimeStampedModel):
    """Gross domestic product of a province (or of the nation, region ``000000``) in a year, in yuan."""

    id = models.BigAutoField(primary_key=True)
    year = models.PositiveSmallIntegerField(_("year"))
    region = models.CharField(
        _("region"),
        max_length=6,
        help_text=_("GB/T 2260 code of a province-level division, or 000000 for the national total."),
    )
    gdp_yuan = models.DecimalField(_("GDP (yuan)"), max_digits=18, decimal_places=2)

    class Meta:
        ordering = ["-year", "region"]
        verbose_name = _("GDP figure")
        verbose_name_plural = _("GDP figures")
        constraints = [
            models.UniqueConstraint(fields=["year", "region"], name="gdpfigure_unique_year_region"),
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_YEAR) & Q(year__lte=LAST_YEAR), name="gdpfigure_year_range"
            ),
            # Province level (xx0000) or the national total; a city's GDP is not counted anywhere.
            models.CheckConstraint(
                condition=Q(region__regex=r"^[0-9]{2}0000$"), name="gdpfigure_region_province"
            ),
            models.CheckConstraint(condition=Q(gdp_yuan__gt=0), name="gdpfigure_gdp_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.region}"


class ImportKind(models.TextChoices):
    REGISTRATIONS = "registrations", _("Contract registrations")
    GDP = "gdp", _("GDP figures")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Imported")
    REFUSED = "refused", _("Refused, nothing imported")
    FAILED = "failed", _("Failed")


FINISHED_IMPORT_STATUSES = (ImportStatus.DONE, ImportStatus.REFUSED, ImportStatus.FAILED)


def import_upload_to(instance: "ImportRun", filename: str) -> str:
    # The original name is kept in ``source_name``; the stored one only needs to be unique.
    return f"imports/{instance.kind}/{instance.uuid.hex}.csv"


def rejects_upload_to(instance: "ImportRun", filename: str) -> str:
    return f"imports/{instance.kind}/{instance.uuid.hex}-rejects.csv"


class ImportRun(TimeStampedModel):
    """A CSV file uploaded in the admin by a registration officer, and the report of its import."""

    Kind = ImportKind
    Status = ImportStatus

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    source_name = models.CharField(_("file name"), max_length=255)
    file = models.FileField(_("file"), upload_to=import_upload_to, max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    strict = models.BooleanField(_("strict"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    # The first rejected rows as [line, reason] pairs; all of them are in ``rejects_file``.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    rejects_file = models.FileField(
        _("rejected rows"), upload_to=rejects_upload_to, max_length=255, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("CSV import")
        verbose_name_plural = _("CSV imports")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ImportKind.values), name="importrun_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values), name="importrun_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_IMPORT_STATUSES


class AnnualReport(models.Model):
    """The stored annual report of one year (SPEC §8): computed by a Celery job, served from here."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    data = models.JSONField(_("report"))
    registrations = models.PositiveIntegerField(_("registrations counted"))
    computed_at = models.DateTimeField(_("computed at"))
    seconds = models.FloatField(_("seconds to compute"))

    class Meta:
        ordering = ["-year"]
        verbose_name = _("annual report")
        verbose_name_plural = _("annual reports")
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_YEAR) & Q(year__lte=LAST_YEAR), name="annualreport_year_range"
            )
        ]

    def __str__(self) -> str:
        return str(self.year)


class SummaryDimension(models.TextChoices):
    """The tables of the annual report a summary row counts for (``contracts.statistics.DIMENSIONS``)."""

    TOTALS = "totals", _("Totals")
    CONTRACT_TYPE = "by_contract_type", _("By contract type")
    SELLER_TYPE = "by_seller_type", _("By seller type")
    BUYER_TYPE = "by_buyer_type", _("By buyer type")
    OBJECTIVE = "by_objective", _("By socio-economic objective")
    FIELD = "by_field", _("By technology field")
    PLAN_LEVEL = "by_plan_level", _("By plan level")
    SELLER_REGION = "by_seller_region", _("By seller province")
    BUYER_REGION = "by_buyer_region", _("By buyer province")
    FLOWS = "flows", _("Flows between provinces")


# Summary amounts add up many rows of AMOUNT_MAX_DIGITS: room for a hundred million of the largest.
SUMMARY_AMOUNT_MAX_DIGITS = AMOUNT_MAX_DIGITS + 8


class RegistrationSummary(models.Model):
    """The counts and sums of the registrations of one year in one row of one table of the annual report.

    Maintained by the database on PostgreSQL (migration 0004): statement-level triggers on the registrations
    add each statement's new rows and subtract its old ones, so that the annual report reads a few thousand
    summary rows instead of a year's million registrations. ``code`` is the row's code in its table (the
    seller province for a flow, empty for the totals), ``code_to`` the buyer province of a flow (empty
    otherwise). A group with no registrations left has no row. Not maintained on SQLite, where the report
    groups the registrations themselves. ``contracts.statistics.summary_check`` compares it with the
    registrations and repairs it.
    """

    Dimension = SummaryDimension

    id = models.BigAutoField(primary_key=True)
    year = models.SmallIntegerField(_("year"))
    dimension = models.CharField(_("table"), max_length=24, choices=SummaryDimension.choices)
    # As long as the longest code it copies (a technology field's); a province code is 6.
    code = models.CharField(_("code"), max_length=64, blank=True)
    code_to = models.CharField(_("buyer province of a flow"), max_length=6, blank=True)
    count = models.BigIntegerField(_("registrations"))
    amount = models.DecimalField(
        _("total amount (yuan)"), max_digits=SUMMARY_AMOUNT_MAX_DIGITS, decimal_places=2
    )
    technology_amount = models.DecimalField(
        _("technology transaction amount (yuan)"), max_digits=SUMMARY_AMOUNT_MAX_DIGITS, decimal_places=2
    )

    class Meta:
        ordering = ["-year", "dimension", "code", "code_to"]
        verbose_name = _("registration summary")
        verbose_name_plural = _("registration summaries")
        constraints = [
            # The triggers' ON CONFLICT target; also the index of the report's look-up by year.
            models.UniqueConstraint(
                fields=["year", "dimension", "code", "code_to"], name="registrationsummary_unique_key"
            ),
            models.CheckConstraint(
                condition=Q(dimension__in=SummaryDimension.values), name="registrationsummary_dimension_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.dimension} {self.code} {self.code_to}".strip()
