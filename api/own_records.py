"""What every view of the signed-in volunteer's own records under /api/v1/me/ shares.

The volunteer is the one signed in (`IsVolunteer` sets `request.volunteer`), never one named
in the URL or the body: another volunteer's record is not found (404), exactly as a record
that does not exist.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from api import problems
from api.permissions import IsVolunteer
from api.schema import AutoSchema, ProblemSerializer
from api.views import ThrottleBeforePermissions

NOT_A_VOLUNTEER = OpenApiResponse(
    ProblemSerializer,
    "Signed in, but not as a volunteer of the service: the sign-in belongs to no volunteer "
    "record, or to a volunteer who has left.",
    [
        OpenApiExample(
            "403",
            value=problems.problem(
                403,
                "This sign-in belongs to no volunteer, and these pages are a volunteer's own. "
                "Ask the office to link your volunteer record to it.",
                code="not_a_volunteer",
            ),
            status_codes=["403"],
            response_only=True,
        )
    ],
)


class OwnRecordsSchema(AutoSchema):
    """AutoSchema, with the 403 that these pages give."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response" and "403" in responses:
            responses["403"] = self._get_response_for_code(
                NOT_A_VOLUNTEER, "403", media_types=[problems.CONTENT_TYPE], direction=direction
            )
        return responses


class OwnRecords(ThrottleBeforePermissions):
    """For a viewset of the signed-in volunteer's own records."""

    permission_classes = [IsVolunteer]
    schema = OwnRecordsSchema()


class OwnNestedRecords(OwnRecords):
    """For a subclass of a NestedRecordViewSet (`/volunteers/{volunteer_id}/...`): the same
    records, their parent the signed-in volunteer rather than the one in the URL."""

    @property
    def parent(self):
        return self.request.volunteer
