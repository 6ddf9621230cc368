from django.db import migrations


def _on_the_user_fk(table, statement):
    """`statement` (with %I for the constraint's name) on `table`'s foreign key to the user."""
    return f"""
DO $$
DECLARE fk text;
BEGIN
    SELECT conname INTO STRICT fk FROM pg_constraint
     WHERE conrelid = '{table}'::regclass AND contype = 'f'
       AND confrelid = 'auth_user'::regclass;
    EXECUTE format('{statement}', fk, fk);
END $$;
"""


def _replace(table, column, how):
    return _on_the_user_fk(
        table,
        f"ALTER TABLE {table} DROP CONSTRAINT %I, ADD CONSTRAINT %I FOREIGN KEY ({column}) "
        f"REFERENCES auth_user (id) {how} NOT VALID",
    )


def _validate(table):
    return _on_the_user_fk(table, f"ALTER TABLE {table} VALIDATE CONSTRAINT %I")


def cascade_with_the_user(table, column, reverse_how):
    """Operations making `table`'s key to the user ON DELETE CASCADE in the database (see 0008),
    added NOT VALID and validated after; reversed to `reverse_how`."""
    return [
        migrations.RunSQL(
            _replace(table, column, "ON DELETE CASCADE NOT DEFERRABLE"),
            _replace(table, column, reverse_how),
        ),
        migrations.RunSQL(_validate(table), _validate(table)),
    ]
