from django.db import migrations

# A large index build takes longer than the service's statement_timeout; lift it for the
# migration's session only (RESET returns to the connection's own default).
NO_STATEMENT_TIMEOUT = migrations.RunSQL(
    "SET statement_timeout = 0", reverse_sql="RESET statement_timeout", elidable=True
)
RESTORE_STATEMENT_TIMEOUT = migrations.RunSQL(
    "RESET statement_timeout", reverse_sql="SET statement_timeout = 0", elidable=True
)
