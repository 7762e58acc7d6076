"""The signed-in volunteer's own weekly availability and absences, for the partner app.

The same records, serializers, filters and services as the coordinator's
/api/v1/volunteers/{id}/availability/ and /absences/, so every refusal is the same (windows
that overlap or end before they start, times not written HH:MM, absences that overlap or end
before they start), and the office sees each change at once. A body never names the volunteer:
a `volunteer` field is refused as any unknown field is.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view

from api.own_records import OwnNestedRecords
from api.volunteers import AbsenceViewSet, AvailabilityViewSet

WINDOW_REFUSALS = (
    "400 when it ends before it starts (split an evening that runs past midnight into two), "
    "a time is not written HH:MM, or it overlaps another of your windows."
)
ABSENCE_REFUSALS = "400 when it ends before it starts or overlaps another of your absences."


@extend_schema_view(
    list=extend_schema(description="When you are free each week, Monday first."),
    create=extend_schema(
        description=f"Add a weekly window when you are free, in UK local time. {WINDOW_REFUSALS}"
    ),
    retrieve=extend_schema(description="One of your weekly windows."),
    update=extend_schema(
        description=f"Replace one of your weekly windows: send every field. {WINDOW_REFUSALS}"
    ),
    partial_update=extend_schema(
        description=f"Change one of your weekly windows: send only what changes. {WINDOW_REFUSALS}"
    ),
    destroy=extend_schema(description="Take one of your weekly windows away."),
)
class MyAvailabilityViewSet(OwnNestedRecords, AvailabilityViewSet):
    """When the signed-in volunteer is free each week, in UK local (Europe/London) time.
    Windows never overlap; the office matches and plans sessions by them."""

    summaries = {
        "list": "List your weekly availability",
        "create": "Add a window to your weekly availability",
        "retrieve": "Read a window of your weekly availability",
        "update": "Replace a window of your weekly availability",
        "partial_update": "Change a window of your weekly availability",
        "destroy": "Delete a window of your weekly availability",
    }


@extend_schema_view(
    list=extend_schema(description="The dates you are away, earliest first."),
    create=extend_schema(
        description=f"Tell the office you are away (the last day included): no matches or "
        f"sessions are planned for you then. {ABSENCE_REFUSALS}"
    ),
    retrieve=extend_schema(description="One of your absences."),
    update=extend_schema(
        description=f"Replace one of your absences: send every field. {ABSENCE_REFUSALS}"
    ),
    partial_update=extend_schema(
        description=f"Change one of your absences: send only what changes. {ABSENCE_REFUSALS}"
    ),
    destroy=extend_schema(description="Take back one of your absences: you are not away then."),
)
class MyAbsenceViewSet(OwnNestedRecords, AbsenceViewSet):
    """Dates the signed-in volunteer is away (holiday, illness); the last day is included."""

    summaries = {
        "list": "List your absences",
        "create": "Add an absence",
        "retrieve": "Read one of your absences",
        "update": "Replace one of your absences",
        "partial_update": "Change one of your absences",
        "destroy": "Delete one of your absences",
    }
