"""Region and technology-field codes of registrations, enforced by triggers instead of foreign keys.

A foreign-key constraint is checked row by row: on PostgreSQL five of them made the insert of a million
registrations take 51 s instead of 12 s. A statement-level trigger checks all the rows of one INSERT or UPDATE
statement against the reference tables with hashed lookups, for a few seconds per million rows. The rule is the
foreign keys' (the code exists; the field is one of the 11 national fields; a sub-field belongs to the field);
the provinces follow from the regions by a CHECK constraint. SQLite (development and the fast tests) gets the
same rule as row triggers.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION contracts_registration_codes_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    -- NOT IN over a small uncorrelated subquery is planned as a hashed subplan: one hash per reference
    -- table, one probe per row.
    SELECT n.registration_no, n.seller_region_id, n.buyer_region_id, n.field_id, n.sub_field_id INTO bad
    FROM new_rows n
    WHERE n.seller_region_id NOT IN (SELECT code FROM marketplace_region)
       OR n.buyer_region_id NOT IN (SELECT code FROM marketplace_region)
       OR n.field_id NOT IN (SELECT code FROM marketplace_technologyfield WHERE parent_id IS NULL)
       OR (n.sub_field_id IS NOT NULL AND (n.field_id, n.sub_field_id) NOT IN (
              SELECT parent_id, code FROM marketplace_technologyfield WHERE parent_id IS NOT NULL))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'registration % refers to an unknown region or technology field '
                        '(seller region %, buyer region %, field %, sub-field %)',
                        bad.registration_no, bad.seller_region_id, bad.buyer_region_id, bad.field_id,
                        bad.sub_field_id
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER contracts_registration_codes_insert
    AFTER INSERT ON contracts_registration REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contracts_registration_codes_check();
CREATE TRIGGER contracts_registration_codes_update
    AFTER UPDATE ON contracts_registration REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contracts_registration_codes_check();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER contracts_registration_codes_update ON contracts_registration;
DROP TRIGGER contracts_registration_codes_insert ON contracts_registration;
DROP FUNCTION contracts_registration_codes_check();
"""

SQLITE_CONDITION = """
    NOT EXISTS (SELECT 1 FROM marketplace_region WHERE code = NEW.seller_region_id)
    OR NOT EXISTS (SELECT 1 FROM marketplace_region WHERE code = NEW.buyer_region_id)
    OR NOT EXISTS (SELECT 1 FROM marketplace_technologyfield WHERE code = NEW.field_id AND parent_id IS NULL)
    OR (NEW.sub_field_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM marketplace_technologyfield WHERE code = NEW.sub_field_id AND parent_id = NEW.field_id))
"""

SQLITE_FORWARD = [
    f"""
CREATE TRIGGER contracts_registration_codes_{event.lower()}
BEFORE {event} ON contracts_registration FOR EACH ROW WHEN {SQLITE_CONDITION}
BEGIN
    SELECT RAISE(ABORT, 'registration refers to an unknown region or technology field');
END
"""
    for event in ("INSERT", "UPDATE")
]

SQLITE_BACKWARD = [
    "DROP TRIGGER contracts_registration_codes_update",
    "DROP TRIGGER contracts_registration_codes_insert",
]


def _run(schema_editor, postgres: list[str], sqlite: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": postgres, "sqlite": sqlite}.get(vendor)
    if statements is None:
        raise NotImplementedError(f"no registration code triggers for the {vendor} database")
    for statement in statements:
        schema_editor.execute(statement, params=None)


def forward(apps, schema_editor):
    _run(schema_editor, [POSTGRES_FORWARD], SQLITE_FORWARD)


def backward(apps, schema_editor):
    _run(schema_editor, [POSTGRES_BACKWARD], SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
