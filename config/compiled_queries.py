"""Queries compiled to SQL once and then run again with other values.

Building a QuerySet and compiling it costs far more Python than the database takes to run
a small indexed query: for a 304 of the volunteer's sessions it was most of the answer. A
query written with a `Slot` wherever a value changes from one run to the next is compiled
once (`Compiled`) and afterwards only run, its slots filled in.

Every value that can differ between runs must be a slot. Anything else in the query (a
time zone's name, a page's LIMIT) is kept as it was when compiled, so it belongs in the key
under which the caller keeps the compiled query.
"""

from django.db import connections
from django.db.models import Expression


class Slot(Expression):
    """A value given each time the compiled query runs, adapted for the database as a value
    of `output_field` is."""

    def __init__(self, name, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        # The slot itself stands among the parameters until the query runs.
        return "%s", [self]

    def value_for(self, value, connection):
        return self.output_field.get_db_prep_value(value, connection, prepared=False)


class Compiled:
    """A `values_list` query compiled once; `rows(**values)` runs it with each slot filled."""

    def __init__(self, queryset):
        self.using = queryset.db
        self.query = queryset.query
        compiler = self.query.get_compiler(using=self.using)
        self.sql, self.params = compiler.as_sql()
        self.columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
        self.slots = frozenset(param.name for param in self.params if isinstance(param, Slot))

    def rows(self, **values):
        """The rows as `values_list` gives them, their values converted as the ORM does."""
        if values.keys() != self.slots:
            raise TypeError(f"Give exactly the slots {sorted(self.slots)}; got {sorted(values)}.")
        connection = connections[self.using]
        params = [
            param.value_for(values[param.name], connection) if isinstance(param, Slot) else param
            for param in self.params
        ]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        compiler = self.query.get_compiler(connection=connection)
        converters = compiler.get_converters(self.columns)
        if not converters:
            return [tuple(row) for row in rows]
        return [tuple(row) for row in compiler.apply_converters(rows, converters)]
