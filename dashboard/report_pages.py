"""The Reports page and each report's CSV: thin views over dashboard.reports."""

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views import View

from dashboard import reports
from dashboard.access import CoordinatorRequired
from dashboard.views import Page


class Reports(Page):
    template_name = "dashboard/reports.html"
    nav = "reports"

    def get(self, request, *args, **kwargs):
        form = reports.RangeForm(request.GET, today=timezone.localdate())
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        start, end = form.cleaned_data["from"], form.cleaned_data["to"]
        return self.render_to_response(
            self.get_context_data(
                form=form,
                start=start,
                end=end,
                reports=reports.all_reports(start, end),
                query=f"from={start.isoformat()}&to={end.isoformat()}",
            )
        )


class ReportCsv(CoordinatorRequired, View):
    http_method_names = ["get"]

    def get(self, request, slug):
        build = reports.REPORTS.get(slug)
        if build is None:
            raise Http404("No such report.")
        form = reports.RangeForm(request.GET, today=timezone.localdate())
        if not form.is_valid():
            problems = [error for errors in form.errors.values() for error in errors]
            return HttpResponse(
                "The date range cannot be used: " + " ".join(problems) + "\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        start, end = form.cleaned_data["from"], form.cleaned_data["to"]
        report = build(reports.Figures(start, end))
        response = HttpResponse(reports.csv_text(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{reports.csv_filename(report, start, end)}"'
        )
        return response
