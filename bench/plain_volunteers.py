"""A plain Django view (no DRF) answering what `GET /api/v1/volunteers/` answers.

It is the hand-written baseline for bench/api.py: the same sign-in (allauth's X-Session-Token,
coordinators only), the same page (ordered by preferred name, full name, id), the same fields
and values, the same count/next/previous/results envelope, in as few queries as the data
allows: the count, one page query of plain values (the training state annotated in SQL by the
same `with_training_state()` as the API), one query each for the page's language codes,
focus slugs and records of required courses, and one for the required courses. The training
gaps come from the same `training_gaps` rule; otherwise no model instances for volunteers and
no serializers; phones are read as the E.164 text the database stores.
"""

import json
from collections import defaultdict
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from allauth.headless.internal.sessionkit import authenticate_by_x_session_token
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.db.models import CharField, ExpressionWrapper, F
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from volunteers.models import Course, RequiredRecord, TrainingRecord, Volunteer, training_gaps

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25
COLUMNS = (
    "id",
    "preferred_name",
    "full_name",
    "phone_text",
    "email",
    "area__slug",
    "travel_radius_km",
    "gender",
    "meets_in_person",
    "meets_by_phone",
    "meets_by_video",
    "sms_consent",
    "sms_consent_at",
    "wellbeing_opt_in",
    "max_active_matches",
    "status",
    "status_changed_at",
    "training_state",
    "notes",
    "created_at",
    "updated_at",
)


def problem(status, detail):
    return JsonResponse({"status": status, "detail": detail}, status=status)


def refusal(request):
    """401 or 403 unless the X-Session-Token belongs to a coordinator, as the API decides."""
    token = request.headers.get("X-Session-Token")
    found = authenticate_by_x_session_token(token) if token else None
    if found is None:
        response = problem(401, "Sign in and send the session token as X-Session-Token.")
        response["WWW-Authenticate"] = 'X-Session-Token realm="PeerPath API"'
        return response
    user = found[0]
    if not user.is_coordinator:
        return problem(403, "Only coordinators may use this part of the API.")
    if settings.REQUIRE_COORDINATOR_MFA and not is_mfa_enabled(user, ["totp"]):
        return problem(403, "Set up two-factor authentication first.")
    return None


def whole_number(raw, default):
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return None


def with_page(url, number):
    """`url` with `page` set to `number` (left out for page 1 of a previous link), the
    parameters sorted, as DRF's page links are."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    parameters = parse_qs(query, keep_blank_values=True)
    parameters.pop("page", None)
    if number is not None:
        parameters["page"] = [str(number)]
    query = urlencode(sorted(parameters.items()), doseq=True)
    return urlunsplit((scheme, netloc, path, query, fragment))


def iso_datetime(value, zone):
    """As the API writes every moment: local time to the second, its offset written out."""
    if value is None:
        return None
    return value.astimezone(zone).isoformat(timespec="seconds")


def gaps_and_codes(ids):
    """For the volunteers `ids`: language codes, focus slugs, and training gaps, by id."""
    languages = defaultdict(list)
    for volunteer_id, code in (
        Volunteer.languages.through.objects.filter(volunteer_id__in=ids)
        .order_by("language__name")
        .values_list("volunteer_id", "language__code")
    ):
        languages[volunteer_id].append(code)
    focuses = defaultdict(list)
    for volunteer_id, slug in (
        Volunteer.focuses.through.objects.filter(volunteer_id__in=ids)
        .order_by("focus__name")
        .values_list("volunteer_id", "focus__slug")
    ):
        focuses[volunteer_id].append(slug)
    records = defaultdict(list)
    for volunteer_id, *dates in (
        TrainingRecord.objects.filter(volunteer_id__in=ids, course__required_for_matching=True)
        .order_by()
        .values_list("volunteer_id", "course_id", "completed_on", "expires_on")
    ):
        records[volunteer_id].append(RequiredRecord(*dates))
    courses = list(Course.objects.filter(required_for_matching=True).only("id", "code", "name"))
    gaps = {
        volunteer_id: [
            {
                "course": gap["course"].code,
                "course_name": gap["course"].name,
                "state": gap["state"],
                "expires_on": gap["expires_on"].isoformat() if gap["expires_on"] else None,
            }
            for gap in training_gaps(records[volunteer_id], courses)
        ]
        for volunteer_id in ids
    }
    return languages, focuses, gaps


@require_GET
def plain_volunteers(request):
    refused = refusal(request)
    if refused:
        return refused
    size = whole_number(request.GET.get("page_size"), DEFAULT_PAGE_SIZE)
    number = whole_number(request.GET.get("page"), 1)
    if size is None or not 1 <= size <= MAX_PAGE_SIZE:
        return problem(400, f"Give page_size as a whole number from 1 to {MAX_PAGE_SIZE}.")
    if number is None or number < 1:
        return problem(400, "Give page as a whole number from 1.")
    count = Volunteer.objects.count()
    pages = max(1, -(-count // size))
    if number > pages:
        return problem(404, f"There is no page {number}.")
    start = (number - 1) * size
    rows = list(
        Volunteer.objects.with_training_state()
        .annotate(phone_text=ExpressionWrapper(F("phone"), output_field=CharField()))
        .order_by("preferred_name", "full_name", "pk")
        .values(*COLUMNS)[start : start + size]
    )
    languages, focuses, gaps = gaps_and_codes([row["id"] for row in rows])
    zone = timezone.get_current_timezone()
    results = [
        {
            "id": row["id"],
            "preferred_name": row["preferred_name"],
            "full_name": row["full_name"],
            "phone": row["phone_text"] or None,
            "email": row["email"],
            "area": row["area__slug"],
            "travel_radius_km": row["travel_radius_km"],
            "gender": row["gender"],
            "languages": languages.get(row["id"], []),
            "focuses": focuses.get(row["id"], []),
            "meets_in_person": row["meets_in_person"],
            "meets_by_phone": row["meets_by_phone"],
            "meets_by_video": row["meets_by_video"],
            "sms_consent": row["sms_consent"],
            "sms_consent_at": iso_datetime(row["sms_consent_at"], zone),
            "wellbeing_opt_in": row["wellbeing_opt_in"],
            "max_active_matches": row["max_active_matches"],
            "status": row["status"],
            "status_changed_at": iso_datetime(row["status_changed_at"], zone),
            "training_state": row["training_state"],
            "training_gaps": gaps[row["id"]],
            "notes": row["notes"],
            "created_at": iso_datetime(row["created_at"], zone),
            "updated_at": iso_datetime(row["updated_at"], zone),
        }
        for row in rows
    ]
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
