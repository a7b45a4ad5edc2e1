"""The SQL of the generation table's partitions and rollup triggers (files in rankings/sql/).

Migrations run it; keeping it in .sql files lets it read as SQL.
"""

from pathlib import Path

SQL = Path(__file__).resolve().parent / "sql"
# The advisory lock class under which an account's stored activity answers are written (by the
# activity API) and dropped (by the rollup trigger): pg_advisory_xact_lock(ACTIVITY_LOCK, user).
ACTIVITY_LOCK = 7401


def sql(name: str) -> str:
    return (SQL / name).read_text()


def counted(transition_table: str) -> str:
    """The rows of a statement that the rollups count: all but the parent rows of virtual
    models (a mixture's own row; its sub-generations carry the real models' usage)."""
    return f"(SELECT * FROM {transition_table} WHERE NOT virtual) AS generations"  # noqa: S608


def functions() -> str:
    """The app-origin function and the rollup functions (insert adds, delete subtracts);
    CREATE OR REPLACE, so running it again updates them in place."""
    function = sql("rollup_function.sql").replace("__ACTIVITY_LOCK__", str(ACTIVITY_LOCK))
    rollups = "\n".join(
        function.replace("__NAME__", name).replace("__ROWS__", rows).replace("__SIGN__", sign)
        for name, rows, sign in [
            ("insert", counted("inserted_generations"), "1"),
            ("delete", counted("deleted_generations"), "(-1)"),
        ]
    )
    return sql("app_origin.sql") + "\n" + rollups


def triggers() -> str:
    """The functions and the statement triggers that call them."""
    return (
        sql("rollup_triggers.sql")
        .replace("-- __ORIGIN__", "")
        .replace("-- __FUNCTIONS__", functions())
    )
