"""Questions about sessions (a reminder, an after-session check-in), asked of many at once.

A pass finds the sessions due a question, writes every text in one `send_many`, then ties
each session to its text with `tie_questions`: one UPDATE for all of them, which takes a
session only if it is still as it was when it was found (the same start, still open, still
without that question). A session rescheduled or closed while the pass ran takes none, and
its text is withdrawn before it can go.
"""

from django.db import connection

from matching.models import Session
from messaging.services import close_question


def tie_questions(asked, *, field, statuses, reason):
    """Make each text of `asked`, a list of (session id, the start it was asked about, text),
    the `field` ("reminder" or "check_in") of its session, if the session still starts then,
    is in one of `statuses` and has no such question yet. Texts no session took are withdrawn
    with `reason`. Returns how many sessions took their text."""
    if not asked:
        return 0
    tied = 0
    # Three values a row: SQLite takes few parameters a query, PostgreSQL all rows at once.
    limit = connection.features.max_query_params
    size = (limit - len(statuses)) // 3 if limit else len(asked)
    for start in range(0, len(asked), size):
        tied += _tie(asked[start : start + size], field=field, statuses=statuses)
    if tied == len(asked):
        return tied
    texts = {text.pk: text for _, _, text in asked}
    taken = set(
        Session.objects.filter(**{f"{field}__in": list(texts)}).values_list(field, flat=True)
    )
    for text_id in texts.keys() - taken:  # only when a session changed during the pass
        close_question(texts[text_id], reason=reason)
    return len(taken)


def _tie(asked, *, field, statuses):
    """One UPDATE ... FROM a list of (session, start, text) rows: a CASE with a branch per
    session would cost time in the square of their number."""
    quote = connection.ops.quote_name
    column = quote(Session._meta.get_field(field).column)
    session = quote(Session._meta.db_table)
    rows = ", ".join(["(%s, %s, %s)"] * len(asked))
    in_statuses = ", ".join(["%s"] * len(statuses))
    sql = (
        f"WITH asked (session_id, starts_at, message_id) AS (VALUES {rows}) "
        f"UPDATE {session} SET {column} = asked.message_id FROM asked "
        f"WHERE {session}.{quote('id')} = asked.session_id "
        f"AND {session}.{quote('starts_at')} = asked.starts_at "
        f"AND {session}.{quote('status')} IN ({in_statuses}) AND {session}.{column} IS NULL"
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        value
        for session_id, starts_at, text in asked
        for value in (session_id, adapt(starts_at), text.pk)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *statuses])
        return cursor.rowcount
