"""Database-held rule that weekly windows of one owner never overlap.

PostgreSQL holds it with an exclusion constraint (btree_gist); SQLite with triggers. Both
treat windows as half-open, so 09:00–12:00 and 12:00–15:00 sit side by side.
"""


def _postgres(table, owner_column, name):
    return [
        "CREATE EXTENSION IF NOT EXISTS btree_gist",
        f"ALTER TABLE {table} ADD CONSTRAINT {name} EXCLUDE USING gist ("
        f"{owner_column} WITH =, weekday WITH =, "
        f"tsrange(DATE '2000-01-01' + starts_at, DATE '2000-01-01' + ends_at) WITH &&)",
    ]


def _sqlite(table, owner_column, name):
    clash = (
        f"EXISTS (SELECT 1 FROM {table} w WHERE w.{owner_column} = NEW.{owner_column} "
        "AND w.weekday = NEW.weekday AND w.starts_at < NEW.ends_at "
        "AND NEW.starts_at < w.ends_at AND w.id IS NOT NEW.id)"
    )
    message = f"{name}: windows of one owner cannot overlap"
    return [
        f"CREATE TRIGGER {name}_insert BEFORE INSERT ON {table} WHEN {clash} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        f"CREATE TRIGGER {name}_update BEFORE UPDATE ON {table} WHEN {clash} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
    ]


def _drop(vendor, table, name):
    if vendor == "postgresql":
        return [f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}_insert", f"DROP TRIGGER IF EXISTS {name}_update"]
    return []


def forbid_overlapping_windows(app_label, model_name, owner_column, name):
    """A migration operation that adds the database rule for one WeeklyWindow model."""
    from django.db import migrations

    builders = {"postgresql": _postgres, "sqlite": _sqlite}

    def table_of(apps):
        return apps.get_model(app_label, model_name)._meta.db_table

    def forwards(apps, schema_editor):
        build = builders.get(schema_editor.connection.vendor)
        if build:
            for statement in build(table_of(apps), owner_column, name):
                schema_editor.execute(statement)

    def backwards(apps, schema_editor):
        for statement in _drop(schema_editor.connection.vendor, table_of(apps), name):
            schema_editor.execute(statement)

    return migrations.RunPython(forwards, backwards)
