"""The coordinator's pages: thin views over the apps' querysets and services."""

from django.views.generic import TemplateView

from dashboard.access import CoordinatorRequired


class Today(CoordinatorRequired, TemplateView):
    template_name = "dashboard/today.html"
