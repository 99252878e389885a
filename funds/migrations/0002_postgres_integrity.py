"""PostgreSQL-only integrity for the ledger (other databases rely on the posting service and reconciliation).

- a deferred constraint trigger: at commit, every entry touched by a new posting
  must sum to zero (借贷平衡);
- the ledger is append-only: UPDATE and DELETE of entries and postings are refused;
- the statement index becomes a covering index (INCLUDE amount, kind), so a
  statement page and a fund's monthly series are index-only scans.
"""

from django.db import migrations

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION funds_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE total numeric;
    BEGIN
        SELECT COALESCE(SUM(amount), 0) INTO total FROM funds_posting WHERE entry_id = NEW.entry_id;
        IF total <> 0 THEN
            RAISE EXCEPTION '记账凭证 % 借贷不平：分录合计 % (journal entry does not balance)', NEW.entry_id, total
                USING ERRCODE = '23514';
        END IF;
        RETURN NULL;
    END $$;
    """,
    """
    CREATE CONSTRAINT TRIGGER funds_posting_entry_balanced AFTER INSERT ON funds_posting
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION funds_check_entry_balanced();
    """,
    """
    CREATE OR REPLACE FUNCTION funds_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '基金账簿只能追加，不能修改或删除 (% on % refused); 错误请以冲销凭证更正', TG_OP, TG_TABLE_NAME
            USING ERRCODE = '42501';
    END $$;
    """,
    """
    CREATE TRIGGER funds_posting_append_only BEFORE UPDATE OR DELETE ON funds_posting
        FOR EACH STATEMENT EXECUTE FUNCTION funds_append_only();
    """,
    """
    CREATE TRIGGER funds_entry_append_only BEFORE UPDATE OR DELETE ON funds_journalentry
        FOR EACH STATEMENT EXECUTE FUNCTION funds_append_only();
    """,
    "DROP INDEX IF EXISTS funds_posting_acct_eff_id;",
    "CREATE INDEX funds_posting_acct_eff_id ON funds_posting (account_id, effective_on, id) INCLUDE (amount, kind);",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS funds_posting_entry_balanced ON funds_posting;",
    "DROP TRIGGER IF EXISTS funds_posting_append_only ON funds_posting;",
    "DROP TRIGGER IF EXISTS funds_entry_append_only ON funds_journalentry;",
    "DROP FUNCTION IF EXISTS funds_check_entry_balanced();",
    "DROP FUNCTION IF EXISTS funds_append_only();",
    "DROP INDEX IF EXISTS funds_posting_acct_eff_id;",
    "CREATE INDEX funds_posting_acct_eff_id ON funds_posting (account_id, effective_on, id);",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:  # no parameter parsing: RAISE formats use %
            for sql in statements:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
