"""`{% form_fields form %}`: a form's fields as `dashboard/_form_fields.html` shows them.

A page of a hundred rows, each with its forms, spent most of its time rendering the same
blank forms through Django's form templates, about a millisecond a form. The blank forms of
one class on a page differ only in their ids (`control_ids`), so each is rendered once a
request with a marker for its row, and each row gets a copy with its own ids put in. A bound
form (one posted and shown with its errors) or one with initial values is rendered whole.
"""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

register = template.Library()

FIELDS_TEMPLATE = "dashboard/_form_fields.html"
ROW = "row-of-a-blank-form"
SUFFIX = "-%s"


def rendered(form):
    return render_to_string(FIELDS_TEMPLATE, {"form": form})


def _blank(form):
    return (
        not form.is_bound
        and not form.initial
        and all(field.initial is None for field in form.fields.values())
        and isinstance(form.auto_id, str)
        and form.auto_id.endswith(SUFFIX)
        and ROW not in form.auto_id
    )


@register.simple_tag(takes_context=True)
def form_fields(context, form):
    request = context.get("request")
    if request is None or not _blank(form):
        return rendered(form)
    made = request.__dict__.setdefault("_blank_form_fields", {})
    if type(form) not in made:
        made[type(form)] = rendered(type(form)(auto_id=ROW + SUFFIX))
    # The prefix is the page's own (control_ids of a row's primary key), never typed text.
    return mark_safe(made[type(form)].replace(ROW, form.auto_id.removesuffix(SUFFIX)))
