"""The summary of the registrations the annual report reads (``RegistrationSummary``), kept by triggers.

The report groups a year's registrations by eight columns in ten ways; over a national year (a million rows)
that took 3.4 s, 14 times one scan of the year (docs/performance.md). The summary holds those groups' counts
and sums, a few thousand rows per year, and the database keeps it right on PostgreSQL: statement-level
AFTER INSERT / UPDATE / DELETE triggers with transition tables group the statement's new rows (added) and old
rows (subtracted) the same ten ways and upsert the differences, deleting the groups left with no registration;
a TRUNCATE empties it. One statement of a million new rows costs one pass over its rows in the trigger.

Writers never lose each other's changes: each trigger first takes a transaction-level advisory lock, so the
summary is changed by one transaction at a time, until it commits (a second registration of the same year
would wait for the first anyway, on the year's totals row). One lock in every writer, taken before any summary
row, cannot deadlock with itself; the rows are still written in key order. ``contracts_registration_summary_
rebuild(first, last)`` recomputes years from the registrations under the same lock: this migration fills the
summary with it, and ``contracts.statistics.summary_check`` repairs with it.

The grouping columns and the tables' names are those of ``contracts.statistics`` (DIMENSIONS, FLOW_COLUMNS),
copied here as they were when the triggers were written; tests/integration/test_registration_summary_postgres.py
compares the summary with the report's own grouping. Nothing is installed on SQLite, where the report groups
the registrations themselves.
"""

from django.db import migrations, models

SUMMARY = "contracts_registrationsummary"
LOCK_KEY = "contracts.registration_summary"
# Table of the report -> the column it groups on; the flows group on the two provinces.
DIMENSIONS = {
    "by_contract_type": "contract_type",
    "by_seller_type": "seller_type",
    "by_buyer_type": "buyer_type",
    "by_objective": "objective",
    "by_field": "field_id",
    "by_plan_level": "plan_level",
    "by_seller_region": "seller_province_id",
    "by_buyer_region": "buyer_province_id",
}
FLOW_COLUMNS = ("seller_province_id", "buyer_province_id")
COLUMNS = list(dict.fromkeys([*DIMENSIONS.values(), *FLOW_COLUMNS]))
VALUES = "count, amount, technology_amount"


def _signed_rows(relation: str, sign: str) -> str:
    columns = ", ".join(COLUMNS)
    return (
        f"SELECT EXTRACT(YEAR FROM registered_on)::integer AS year, {columns}, {sign}1 AS n, "
        f"{sign}total_amount AS total_amount, {sign}technology_amount AS technology_amount FROM {relation}"
    )


def _grouped(rows: str) -> str:
    """The summary rows (year, dimension, code, code_to, count, amount, technology_amount) of ``rows``, each
    group's sums, non-zero groups only, in key order."""
    columns = ", ".join(COLUMNS)
    # GROUPING(...) has a bit per column, the first column the highest; 0 = grouped by it.
    full = (1 << len(COLUMNS)) - 1

    def bits(*grouped):
        mask = full
        for column in grouped:
            mask &= ~(1 << (len(COLUMNS) - 1 - COLUMNS.index(column)))
        return mask

    dimension = [f"WHEN {full} THEN 'totals'", f"WHEN {bits(*FLOW_COLUMNS)} THEN 'flows'"]
    code = [f"WHEN {bits(*FLOW_COLUMNS)} THEN {FLOW_COLUMNS[0]}"]
    for name, column in DIMENSIONS.items():
        dimension.append(f"WHEN {bits(column)} THEN '{name}'")
        code.append(f"WHEN {bits(column)} THEN {column}")
    sets = ["()", *(f"({column})" for column in DIMENSIONS.values()), f"({', '.join(FLOW_COLUMNS)})"]
    return f"""
        SELECT year,
               CASE GROUPING({columns}) {" ".join(dimension)} END AS dimension,
               CASE GROUPING({columns}) {" ".join(code)} ELSE '' END AS code,
               CASE GROUPING({columns}) WHEN {bits(*FLOW_COLUMNS)} THEN {FLOW_COLUMNS[1]} ELSE '' END AS code_to,
               sum(n) AS count, sum(total_amount) AS amount, sum(technology_amount) AS technology_amount
          FROM ({rows}) AS changes
         GROUP BY year, GROUPING SETS ({", ".join(sets)})
        HAVING sum(n) <> 0 OR sum(total_amount) <> 0 OR sum(technology_amount) <> 0
         ORDER BY year, dimension, code, code_to
    """


def _trigger_function(event: str, rows: str, guard: str) -> str:
    """The function of the AFTER ``event`` trigger: the statement's changes added to the summary."""
    return f"""
CREATE FUNCTION contracts_registration_summary_{event.lower()}() RETURNS trigger LANGUAGE plpgsql
    -- A hash aggregate of a few thousand groups needs little memory, but without room the planner sorts a
    -- million rows once per grouping set; JIT compilation costs seconds on a statement this short.
    SET work_mem = '64MB' SET jit = off
AS $$
DECLARE
    emptied bigint[];
BEGIN
    PERFORM 1 FROM {guard} LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;  -- nothing written (an import's update that found no changed row): no lock either
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('{LOCK_KEY}'));
    WITH upserted AS (
        INSERT INTO {SUMMARY} AS s (year, dimension, code, code_to, {VALUES})
        {_grouped(rows)}
        ON CONFLICT (year, dimension, code, code_to) DO UPDATE
           SET count = s.count + EXCLUDED.count, amount = s.amount + EXCLUDED.amount,
               technology_amount = s.technology_amount + EXCLUDED.technology_amount
        RETURNING s.id, s.count
    )
    SELECT array_agg(id) FILTER (WHERE count = 0) INTO emptied FROM upserted;
    -- A group without registrations has no row, as the report's own grouping has none.
    IF emptied IS NOT NULL THEN
        DELETE FROM {SUMMARY} WHERE id = ANY (emptied);
    END IF;
    RETURN NULL;
END
$$;
"""


INSERTED = _signed_rows("new_rows", "")
DELETED = _signed_rows("old_rows", "-")

POSTGRES_FORWARD = [
    _trigger_function("INSERT", INSERTED, "new_rows"),
    _trigger_function("DELETE", DELETED, "old_rows"),
    _trigger_function("UPDATE", f"{INSERTED} UNION ALL {DELETED}", "new_rows"),
    f"""
CREATE FUNCTION contracts_registration_summary_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('{LOCK_KEY}'));
    DELETE FROM {SUMMARY};
    RETURN NULL;
END
$$;
""",
    f"""
CREATE FUNCTION contracts_registration_summary_rebuild(first_year integer, last_year integer)
    RETURNS bigint LANGUAGE plpgsql SET work_mem = '64MB' SET jit = off
AS $$
-- The summary of the years first_year..last_year (a null bound: no bound) recomputed from the registrations.
DECLARE
    written bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('{LOCK_KEY}'));
    DELETE FROM {SUMMARY}
     WHERE year >= coalesce(first_year, -32768) AND year <= coalesce(last_year, 32767);
    INSERT INTO {SUMMARY} (year, dimension, code, code_to, {VALUES})
    {_grouped(_signed_rows(
        "contracts_registration WHERE registered_on >= make_date(coalesce(first_year, 1), 1, 1) "
        "AND registered_on < coalesce(make_date(last_year + 1, 1, 1), 'infinity')",
        "",
    ))};
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
""",
    *(
        f"""
CREATE TRIGGER contracts_registration_summary_{event.lower()}
    AFTER {event} ON contracts_registration REFERENCING {transitions}
    FOR EACH STATEMENT EXECUTE FUNCTION contracts_registration_summary_{event.lower()}();
"""
        for event, transitions in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        )
    ),
    """
CREATE TRIGGER contracts_registration_summary_truncate
    AFTER TRUNCATE ON contracts_registration
    FOR EACH STATEMENT EXECUTE FUNCTION contracts_registration_summary_truncate();
""",
    "SELECT contracts_registration_summary_rebuild(NULL, NULL)",
]

POSTGRES_BACKWARD = [
    *(
        f"DROP TRIGGER contracts_registration_summary_{event} ON contracts_registration"
        for event in ("truncate", "delete", "update", "insert")
    ),
    "DROP FUNCTION contracts_registration_summary_rebuild(integer, integer)",
    *(
        f"DROP FUNCTION contracts_registration_summary_{event}()"
        for event in ("truncate", "delete", "update", "insert")
    ),
]


def forward(apps, schema_editor):
    # SQLite: nothing; the report groups the registrations there and never reads the summary.
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('contracts', '0003_annual_report'),
    ]

    operations = [
        migrations.CreateModel(
            name='RegistrationSummary',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('year', models.SmallIntegerField(verbose_name='year')),
                ('dimension', models.CharField(choices=[('totals', 'Totals'), ('by_contract_type', 'By contract type'), ('by_seller_type', 'By seller type'), ('by_buyer_type', 'By buyer type'), ('by_objective', 'By socio-economic objective'), ('by_field', 'By technology field'), ('by_plan_level', 'By plan level'), ('by_seller_region', 'By seller province'), ('by_buyer_region', 'By buyer province'), ('flows', 'Flows between provinces')], max_length=24, verbose_name='table')),
                ('code', models.CharField(blank=True, max_length=64, verbose_name='code')),
                ('code_to', models.CharField(blank=True, max_length=6, verbose_name='buyer province of a flow')),
                ('count', models.BigIntegerField(verbose_name='registrations')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=24, verbose_name='total amount (yuan)')),
                ('technology_amount', models.DecimalField(decimal_places=2, max_digits=24, verbose_name='technology transaction amount (yuan)')),
            ],
            options={
                'verbose_name': 'registration summary',
                'verbose_name_plural': 'registration summaries',
                'ordering': ['-year', 'dimension', 'code', 'code_to'],
                'constraints': [models.UniqueConstraint(fields=('year', 'dimension', 'code', 'code_to'), name='registrationsummary_unique_key'), models.CheckConstraint(condition=models.Q(('dimension__in', ['totals', 'by_contract_type', 'by_seller_type', 'by_buyer_type', 'by_objective', 'by_field', 'by_plan_level', 'by_seller_region', 'by_buyer_region', 'flows'])), name='registrationsummary_dimension_valid')],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
