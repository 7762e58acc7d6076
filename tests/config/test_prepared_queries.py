"""On PostgreSQL, a query the site runs again and again is prepared on its connection, so the
server stops planning it anew (planning is most of a short read's time, a 304's above all);
DATABASE_PREPARED_QUERIES=0 turns that off for a pooler in transaction mode."""

import pytest
from django.db import connection

from community.models import Area
from tests.config.fresh_process import printed


def prepared_statements():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_query_run_over_and_over_is_prepared_once_with_its_values_bound_apart():
    for slug in ["coatbridge", "airdrie", "wishaw", "motherwell", "hamilton", "bellshill"]:
        list(Area.objects.filter(slug=slug).values_list("pk", flat=True))

    prepared = [text for text in prepared_statements() if '"community_area"' in text]

    assert len(prepared) == 1, prepared
    assert '"community_area"."slug" = $1' in prepared[0]


def databases_options_with(**env):
    return printed(
        "from django.conf import settings; o = settings.DATABASES['default'].get('OPTIONS', {});"
        "print(o.get('server_side_binding'), o.get('prepare_threshold'))",
        **env,
    ).split()


def test_prepared_queries_are_on_for_postgresql_unless_turned_off():
    postgres = "postgres://postgres@127.0.0.1:5432/postgres"
    assert databases_options_with(DATABASE_URL=postgres) == ["True", "5"]
    assert databases_options_with(DATABASE_URL=postgres, DATABASE_PREPARED_QUERIES="0") == [
        "None",
        "None",
    ]
    assert databases_options_with(DATABASE_URL="sqlite:///peerpath.sqlite3") == ["None", "None"]
