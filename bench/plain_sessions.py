"""A plain Django view (no DRF) answering what `GET /api/v1/sessions/` answers.

The hand-written baseline bench/api.py measures the coordinator's session list against: the
same sign-in and page (soonest first, then id), the same fields and values, in two queries
(the count and one page query of plain values: the confirmation state annotated in SQL by the
same `with_confirmation_state()` as the API, the reminder and its answer joined in).
"""

import json

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from bench.plain_volunteers import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    iso_datetime,
    problem,
    refusal,
    whole_number,
    with_page,
)
from matching.models import Session

COLUMNS = (
    "id",
    "match_id",
    "match__peer_id",
    "match__volunteer_id",
    "match__volunteer__preferred_name",
    "starts_at",
    "ends_at",
    "mode",
    "place",
    "status",
    "confirmed_at",
    "outcome_notes",
    "hours",
    "confirmation_state",
    "reminder__sent_at",
    "reminder__status",
    "reminder__answered_by__body",
    "reminder__answered_by__created_at",
    "at_risk_since",
    "created_at",
    "updated_at",
)


def page_of(request, count):
    """(size, number, pages) of the page asked for, or a problem response."""
    size = whole_number(request.GET.get("page_size"), DEFAULT_PAGE_SIZE)
    number = whole_number(request.GET.get("page"), 1)
    if size is None or not 1 <= size <= MAX_PAGE_SIZE:
        return problem(400, f"Give page_size as a whole number from 1 to {MAX_PAGE_SIZE}.")
    if number is None or number < 1:
        return problem(400, "Give page as a whole number from 1.")
    pages = max(1, -(-count // size))
    if number > pages:
        return problem(404, f"There is no page {number}.")
    return size, number, pages


def envelope(request, *, count, number, pages, results):
    url = request.build_absolute_uri()
    body = {
        "count": count,
        "next": with_page(url, number + 1) if number < pages else None,
        "previous": with_page(url, number - 1 if number > 2 else None) if number > 1 else None,
        "results": results,
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        content_type="application/json",
    )


def hours(value):
    return None if value is None else float(value)


@require_GET
def plain_sessions(request):
    refused = refusal(request)
    if refused:
        return refused
    count = Session.objects.count()
    paging = page_of(request, count)
    if not isinstance(paging, tuple):
        return paging
    size, number, pages = paging
    start = (number - 1) * size
    rows = (
        Session.objects.with_confirmation_state()
        .order_by("starts_at", "pk")
        .values(*COLUMNS)[start : start + size]
    )
    zone = timezone.get_current_timezone()
    results = [
        {
            "id": row["id"],
            "match": row["match_id"],
            "peer": row["match__peer_id"],
            "peer_reference": f"P-{row['match__peer_id']:06d}",
            "volunteer": row["match__volunteer_id"],
            "volunteer_name": row["match__volunteer__preferred_name"],
            "starts_at": iso_datetime(row["starts_at"], zone),
            "ends_at": iso_datetime(row["ends_at"], zone),
            "mode": row["mode"],
            "place": row["place"],
            "status": row["status"],
            "confirmed_at": iso_datetime(row["confirmed_at"], zone),
            "outcome_notes": row["outcome_notes"],
            "hours": hours(row["hours"]),
            "confirmation_state": row["confirmation_state"],
            "reminded_at": iso_datetime(row["reminder__sent_at"], zone),
            "reminder_status": row["reminder__status"],
            "answer": row["reminder__answered_by__body"],
            "answered_at": iso_datetime(row["reminder__answered_by__created_at"], zone),
            "at_risk_since": iso_datetime(row["at_risk_since"], zone),
            "created_at": iso_datetime(row["created_at"], zone),
            "updated_at": iso_datetime(row["updated_at"], zone),
        }
        for row in rows
    ]
    return envelope(request, count=count, number=number, pages=pages, results=results)
