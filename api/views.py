"""The base viewsets: writes through services, answers re-read through the list's queryset."""

from rest_framework import viewsets
from rest_framework.generics import get_object_or_404

from api.permissions import CoordinatorsWriteOthersRead


class RecordViewSet(viewsets.ModelViewSet):
    """Create, read, change and (when `remove_with` is set) delete through services.

    After a write the record is read again through `get_queryset`, so the answer carries the
    same annotations as the list (a volunteer's training state, say).
    """

    remove_with = None
    remove_argument = "instance"

    def get_http_method_names(self):
        names = super().get_http_method_names()
        if self.remove_with is None:
            return [name for name in names if name != "delete"]
        return names

    def _reread(self, serializer):
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_create(self, serializer):
        serializer.save()
        self._reread(serializer)

    def perform_update(self, serializer):
        serializer.save()
        self._reread(serializer)

    def perform_destroy(self, instance):
        type(self).remove_with(**{self.remove_argument: instance})


class NestedRecordViewSet(RecordViewSet):
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


class ReferenceViewSet(RecordViewSet):
    """Reference data: anyone signed in reads it, coordinators change it."""

    permission_classes = [CoordinatorsWriteOthersRead]
