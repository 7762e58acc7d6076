"""`{% form_fields form %}`: a form's fields as `dashboard/_form_fields.html` shows them.

A page of a hundred rows, each with its forms, spent most of its time rendering the same
forms through Django's form templates, about a millisecond a form. The unbound forms of one
class on a page differ only in their ids (`control_ids`) and their initial values (a
session's times), so each is rendered once a request with markers in their places, and each
row gets a copy with its own ids and values put in. A bound form (one posted and shown with
its errors) is rendered whole.
"""

from django import template
from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()

FIELDS_TEMPLATE = "dashboard/_form_fields.html"
ROW = "row-of-a-blank-form"
SUFFIX = "-%s"


def rendered(form):
    return render_to_string(FIELDS_TEMPLATE, {"form": form})


def _shared(form):
    """Whether the form may be rendered from its class's shared copy: not bound, ids from
    `control_ids`, and any initial values its own (given to the form, not its fields)."""
    return (
        not form.is_bound
        and all(field.initial is None for field in form.fields.values())
        and set(form.initial) <= set(form.fields)
        and all(value is not None for value in form.initial.values())
        and isinstance(form.auto_id, str)
        and form.auto_id.endswith(SUFFIX)
        and ROW not in form.auto_id
    )


@register.simple_tag(takes_context=True)
def form_fields(context, form):
    request = context.get("request")
    if request is None or not _shared(form):
        return rendered(form)
    made = request.__dict__.setdefault("_shared_form_fields", {})
    key = (type(form), tuple(sorted(form.initial)))
    if key not in made:
        markers = {name: f"{ROW}-initial-{name}" for name in form.initial}
        made[key] = (rendered(type(form)(auto_id=ROW + SUFFIX, initial=markers)), markers)
    html, markers = made[key]
    # Each initial value as the widget shows it, escaped as the template would escape it.
    for name, marker in markers.items():
        field = form[name]
        shown = field.field.widget.format_value(field.value())
        html = html.replace(marker, conditional_escape(shown))
    # The prefix is the page's own (control_ids of a row's primary key), never typed text.
    return mark_safe(html.replace(ROW, form.auto_id.removesuffix(SUFFIX)))
