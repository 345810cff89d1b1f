"""Specials records are kept at least 5 years (Human Medicines Regulations 2012, reg. 170; MHRA
Guidance Note 14): on PostgreSQL a trigger refuses to DELETE a supply of an unlicensed special
dispensed less than 5 years ago, whoever asks (the app role, the admin, a shell)."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION access_programme_specials_retention() RETURNS trigger AS $$
BEGIN
    IF OLD.dispensed_on > (CURRENT_DATE - INTERVAL '5 years')
       AND EXISTS (
           SELECT 1 FROM access_programme_batch b
           JOIN access_programme_product p ON p.id = b.product_id
           WHERE b.id = OLD.batch_id AND p.is_unlicensed_special
       ) THEN
        RAISE EXCEPTION 'A specials record is kept for at least 5 years (HMR 2012 reg. 170): DELETE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS specials_retention ON access_programme_dispensing;
CREATE TRIGGER specials_retention BEFORE DELETE ON access_programme_dispensing
    FOR EACH ROW EXECUTE FUNCTION access_programme_specials_retention();
"""

REVERSE = """
DROP TRIGGER IF EXISTS specials_retention ON access_programme_dispensing;
DROP FUNCTION IF EXISTS access_programme_specials_retention();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE)


class Migration(migrations.Migration):
    dependencies = [("access_programme", "0009_cold_chain_and_recall_notices")]

    operations = [migrations.RunPython(install, remove)]
