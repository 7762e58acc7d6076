"""A plain Django view (no DRF) answering what a volunteer's `GET /api/v1/me/sessions/` answers.

The hand-written baseline bench/api.py measures the app's session list against: the same
sign-in (allauth's X-Session-Token, a volunteer who has not left), the same page (latest
start first, then id), the same fields and values, in as few queries as the data allows: the
volunteer, the count and one page query of plain values (the confirmation state annotated in
SQL by the same `with_confirmation_state()` as the API). What may still be answered follows
the same transition table as the services. No ETag: it is the full answer's baseline.
"""

from allauth.headless.internal.sessionkit import authenticate_by_x_session_token
from django.utils import timezone
from django.views.decorators.http import require_GET

from bench.plain_sessions import envelope, hours, page_of
from bench.plain_volunteers import iso_datetime, problem
from matching.models import Session
from matching.services import SESSION_TRANSITIONS, SessionStatus
from volunteers.models import Volunteer

COLUMNS = (
    "id",
    "match_id",
    "starts_at",
    "ends_at",
    "mode",
    "place",
    "status",
    "confirmation_state",
    "hours",
    "match__peer__preferred_name",
)


def signed_in_volunteer(request):
    """The signed-in volunteer, or the problem response the API would give instead."""
    token = request.headers.get("X-Session-Token")
    found = authenticate_by_x_session_token(token) if token else None
    if found is None:
        response = problem(401, "Sign in and send the session token as X-Session-Token.")
        response["WWW-Authenticate"] = 'X-Session-Token realm="PeerPath API"'
        return response
    volunteer = Volunteer.objects.filter(user=found[0]).only("id", "status").first()
    if volunteer is None or volunteer.status == Volunteer.Status.LEFT:
        return problem(403, "These pages are a volunteer's own.")
    return volunteer


def may_answer(status, starts_at, now):
    if starts_at <= now:
        return False, False
    moves = SESSION_TRANSITIONS.moves[SessionStatus(status)]
    return SessionStatus.CONFIRMED in moves, SessionStatus.DECLINED in moves


@require_GET
def plain_my_sessions(request):
    volunteer = signed_in_volunteer(request)
    if not isinstance(volunteer, Volunteer):
        return volunteer
    mine = Session.objects.filter(match__volunteer_id=volunteer.pk)
    count = mine.count()
    paging = page_of(request, count)
    if not isinstance(paging, tuple):
        return paging
    size, number, pages = paging
    start = (number - 1) * size
    rows = (
        mine.with_confirmation_state()
        .order_by("-starts_at", "-pk")
        .values(*COLUMNS)[start : start + size]
    )
    zone = timezone.get_current_timezone()
    now = timezone.now()
    results = []
    for row in rows:
        can_confirm, can_decline = may_answer(row["status"], row["starts_at"], now)
        results.append(
            {
                "id": row["id"],
                "match": row["match_id"],
                "starts_at": iso_datetime(row["starts_at"], zone),
                "ends_at": iso_datetime(row["ends_at"], zone),
                "mode": row["mode"],
                "place": row["place"],
                "status": row["status"],
                "confirmation_state": row["confirmation_state"],
                "hours": hours(row["hours"]),
                "peer_name": row["match__peer__preferred_name"],
                "can_confirm": can_confirm,
                "can_decline": can_decline,
            }
        )
    return envelope(request, count=count, number=number, pages=pages, results=results)
