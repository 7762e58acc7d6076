"""Page-number pagination, the same on every list: `page`, `page_size` (1 to 100, default 25)."""

import re

from django.core.paginator import InvalidPage
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

# ASCII digits only: int() would also read "١" (Arabic-Indic) or "²" as numbers.
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def whole_number(text):
    """The number in text of ASCII digits, or None."""
    text = text.strip()
    return int(text) if WHOLE_NUMBER.fullmatch(text) else None


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    page_size_query_description = "How many results a page holds: 1 to 100, 25 by default."
    page_query_description = "Which page of results, from 1."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = whole_number(raw) or 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    "page_size": [
                        f"“{raw}” is not a page size: give a whole number from 1 to "
                        f"{self.max_page_size}."
                    ]
                }
            )
        return size

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        raw = request.query_params.get(self.page_query_param, "1")
        number = whole_number(raw)
        if number is None:
            raise ValidationError(
                {"page": [f"“{raw}” is not a page number: give a whole number from 1."]}
            )
        if number < 1:
            raise ValidationError({"page": ["Pages are numbered from 1."]})
        try:
            self.page = paginator.page(number)
        except InvalidPage:
            pages = paginator.num_pages
            raise NotFound(
                f"There is no page {number}: the results fill {pages} "
                f"page{'s' if pages != 1 else ''} of {page_size}."
            ) from None
        return list(self.page)

    def page_bounds(self, request):
        """(start, stop) of the rows the request's page holds, for reading a page without
        this paginator; None when its page number is not one (paginate_queryset says why)."""
        size = self.get_page_size(request)
        number = whole_number(request.query_params.get(self.page_query_param, "1"))
        if number is None or number < 1:
            return None
        return (number - 1) * size, number * size

    def get_schema_operation_parameters(self, view):
        limits = {
            self.page_query_param: {"type": "integer", "minimum": 1},
            self.page_size_query_param: {
                "type": "integer",
                "minimum": 1,
                "maximum": self.max_page_size,
                "default": self.page_size,
            },
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = limits.get(parameter["name"], parameter["schema"])
        return parameters
