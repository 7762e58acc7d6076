"""The base viewsets: writes through services, answers re-read through the list's queryset."""

from django.db import transaction
from rest_framework import mixins, viewsets
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from api.permissions import CoordinatorsWriteOthersRead


class ThrottleBeforePermissions:
    """Count every request against its throttle before permissions are checked, so an
    anonymous client hammering the API meets 429s, not an endless supply of 401s."""

    def check_permissions(self, request):
        self.check_throttles(request)
        self._throttles_checked = True
        super().check_permissions(request)

    def check_throttles(self, request):
        if not getattr(self, "_throttles_checked", False):
            super().check_throttles(request)


class AtomicWrites:
    """Every write request is one transaction, rolled back whenever the answer is an error,
    so nothing is ever half-written. Reads take no transaction (and, on SQLite, no lock)."""

    def dispatch(self, request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
            return response


class RecordViewSet(
    AtomicWrites,
    ThrottleBeforePermissions,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Create, read and change through services; no delete.

    After a write the record is read again through `get_queryset`, so the answer carries the
    same annotations as the list (a volunteer's training state, say).
    """

    def _reread(self, serializer):
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_create(self, serializer):
        serializer.save()
        self._reread(serializer)

    def perform_update(self, serializer):
        serializer.save()
        self._reread(serializer)

    def change_status(
        self, request, *, change_serializer, change_with, record_argument, refuse=None
    ):
        """A status action: validate {"status", "note"}, move the record through its service
        (`change_with(<record_argument>=record, to=, by=, note=)`), answer with the record as
        changed. `refuse(status)` may raise for a status this action must not set."""
        record = self.get_object()
        change = change_serializer(data=request.data)
        change.is_valid(raise_exception=True)
        status = change.validated_data["status"]
        if refuse is not None:
            refuse(status)
        change_with(
            **{record_argument: record},
            to=status,
            by=request.user,
            note=change.validated_data.get("note", ""),
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=record.pk)).data)


class RemovableRecordViewSet(mixins.DestroyModelMixin, RecordViewSet):
    """A RecordViewSet that also deletes, through the service `remove_with`."""

    remove_with = None
    remove_argument = "instance"

    def perform_destroy(self, instance):
        type(self).remove_with(**{self.remove_argument: instance})


class NestedRecordViewSet(RemovableRecordViewSet):
    """Records that belong to a parent in the URL (`/volunteers/{volunteer_id}/absences/`).

    `parent_model` and `parent_field` name the parent; an unknown parent is a 404 before
    anything else happens, and new records are created under it.
    """

    parent_model = None
    parent_field = None

    @property
    def parent(self):
        if not hasattr(self, "_parent"):
            self._parent = get_object_or_404(
                self.parent_model.objects.all(), pk=self.kwargs[f"{self.parent_field}_id"]
            )
        return self._parent

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not getattr(self, "swagger_fake_view", False):
            self.parent  # noqa: B018  (a missing parent is a 404 for every method)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset().none()
        return super().get_queryset().filter(**{self.parent_field: self.parent})

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["create_extra"] = {self.parent_field: self.parent}
        return context


class ReferenceViewSet(RemovableRecordViewSet):
    """Reference data: anyone signed in reads it, coordinators change it."""

    permission_classes = [CoordinatorsWriteOthersRead]
