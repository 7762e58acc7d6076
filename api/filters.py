"""The filter backends every list shares: strict parameters, name and phone search, ordering.

A parameter the API does not know, or an ordering it cannot apply, is refused with a 400
that lists what would work: a typo never silently returns the unfiltered list.
"""

import re

import django_filters
from django import forms
from django.db.models import Q
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters
from rest_framework.exceptions import ValidationError

ALWAYS_ALLOWED = {"page", "page_size"}
PHONE_LIKE = re.compile(r"^\+?[\d\s\-()]{4,}$")


def phone_digits(text):
    """The digits of a (partial) UK phone number as they appear in E.164, or None."""
    if not PHONE_LIKE.match(text.strip()):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < 4:
        return None
    if text.strip().startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        return "44" + digits[1:]
    return digits


class RecordIdField(forms.ModelChoiceField):
    """A record named by its id, in ASCII digits (int() alone also reads "١" as 1)."""

    def to_python(self, value):
        if value not in self.empty_values and not re.fullmatch(r"[0-9]+", str(value)):
            raise forms.ValidationError(
                "Give the id as a whole number in digits 0 to 9.", code="invalid_choice"
            )
        return super().to_python(value)


class RecordFilter(django_filters.ModelChoiceFilter):
    field_class = RecordIdField


class Filters(DjangoFilterBackend):
    """django-filter's backend, with its refusals worded safely.

    django-filter turns a filter's errors into DRF's by %-formatting every message, even one
    without parameters, so a refusal quoting the input (“50%” is not a phone number) raised
    TypeError. Django's own rule formats a message only when it has parameters; so does this.
    """

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise ValidationError(
                {
                    name: [message for error in errors for message in error.messages]
                    for name, errors in filterset.errors.as_data().items()
                }
            )
        return filterset.qs


class KnownParametersOnly(filters.BaseFilterBackend):
    def filter_queryset(self, request, queryset, view):
        known = set(ALWAYS_ALLOWED)
        filterset_class = DjangoFilterBackend().get_filterset_class(view, queryset)
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
        if getattr(view, "search_fields", None):
            known.add(filters.SearchFilter.search_param)
        if getattr(view, "ordering_fields", None):
            known.add(filters.OrderingFilter.ordering_param)
        errors = {}
        for name in sorted(set(request.query_params) - known):
            errors[name] = [f"Unknown parameter; this list accepts: {', '.join(sorted(known))}."]
        if not self._from_a_browser_form(request):
            for name, values in request.query_params.lists():
                if name in known and any(value.strip() == "" for value in values):
                    errors[name] = ["Give a value, or leave the parameter out."]
        for name, values in request.query_params.lists():
            if name not in known:
                continue
            if len(values) > 1:
                errors[name] = [f"Give {name} once; it was given {len(values)} times."]
            if any("\x00" in value for value in values):
                errors[name] = ["A NUL character (%00) is not allowed in a value."]
        if errors:
            raise ValidationError(errors)
        return queryset

    @staticmethod
    def _from_a_browser_form(request):
        # The browsable API's filter form sends every field, the unused ones empty.
        renderer = getattr(request, "accepted_renderer", None)
        return renderer is not None and renderer.format == "api"

    def get_schema_operation_parameters(self, view):
        return []


class NameAndPhoneSearch(filters.SearchFilter):
    """`search` matches names (every word), phone numbers typed in any common UK form, and
    whatever else a view adds through `extra_search(term)` (a peer's reference, say)."""

    search_description = (
        "Words to find in names; or a phone number, whole or in part, in any common UK form."
    )

    def get_search_terms(self, request):
        text = request.query_params.get(self.search_param, "").replace("\x00", "")
        if phone_digits(text):
            return [text.strip()]
        return super().get_search_terms(request)

    def filter_queryset(self, request, queryset, view):
        fields = self.get_search_fields(view, request)
        terms = self.get_search_terms(request)
        if not fields or not terms:
            return queryset
        phone_field = getattr(view, "phone_search_field", None)
        extra_search = getattr(view, "extra_search", None)
        for term in terms:
            condition = Q()
            for field in fields:
                condition |= Q(**{f"{field}__icontains": term})
            digits = phone_digits(term)
            if phone_field and digits:
                condition |= Q(**{f"{phone_field}__contains": digits})
            if extra_search:
                condition |= extra_search(term) or Q()
            queryset = queryset.filter(condition)
        return queryset

    def get_schema_operation_parameters(self, view):
        # A list without search_fields refuses `search` (KnownParametersOnly): do not offer it.
        if not getattr(view, "search_fields", None):
            return []
        return super().get_schema_operation_parameters(view)


class Ordering(filters.OrderingFilter):
    """`ordering` by the fields a view lists (a leading `-` for descending), ties by id."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw is None or not raw.strip():
            return self.get_default_ordering(view)
        wanted = [term.strip() for term in raw.split(",") if term.strip()]
        valid = self.remove_invalid_fields(queryset, wanted, view, request)
        if len(valid) != len(wanted):
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot order by “{raw}”. Choose from: "
                        f"{', '.join(self.allowed_fields(view))}; put - first for descending."
                    ]
                }
            )
        return valid

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if ordering:
            tie = "-pk" if ordering[-1].startswith("-") else "pk"
            return queryset.order_by(*ordering, tie)
        return queryset

    @staticmethod
    def allowed_fields(view):
        return list(view.ordering_fields)

    def get_schema_operation_parameters(self, view):
        allowed = self.allowed_fields(view)
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by this field; put - first for descending. "
                f"By default: {', '.join(view.ordering)}."
                if getattr(view, "ordering", None)
                else "Sort by this field; put - first for descending.",
                "schema": {
                    "type": "string",
                    "enum": [name for field in allowed for name in (field, f"-{field}")],
                },
            }
        ]
