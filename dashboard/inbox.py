"""The inbox: replies that need a person, each with the text it answers.

The coordinator answers one from the page, through the outbox (quiet hours hold the answer,
an opted-out number is refused), or marks it handled with a note; either way the follow-up
raised for it is handled with it (matching.follow_ups.text_back and handle_reply). As on the
Today page, htmx swaps the one row; without JavaScript the form posts and the page comes
back with a message.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views import View

from dashboard.access import CoordinatorRequired
from dashboard.forms import HandleFollowUpForm, add_refusal, control_ids
from dashboard.today import local_time
from dashboard.views import Page, errors_of
from matching import follow_ups
from messaging.models import Message, OptOut
from messaging.services import COORDINATOR_TEXT_MAX_CHARACTERS
from peers.models import Peer
from volunteers.models import Volunteer

# At most this many replies on the page, the longest waiting first; the rest follow as
# these are handled.
SHOWN = 100


class AnswerForm(forms.Form):
    body = forms.CharField(
        label="Your answer",
        max_length=COORDINATOR_TEXT_MAX_CHARACTERS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Sent as a text, and the reply is then handled. Held until 08:00 if it is "
        "sent in quiet hours.",
        error_messages={"required": "Write the answer to send."},
    )


class HandleReplyForm(HandleFollowUpForm):
    """What was done instead of texting back (a call, say): the note of a follow-up."""


@dataclass
class Sender:
    """Who a number belongs to, as far as PeerPath knows."""

    words: str
    volunteer: Volunteer | None = None


def senders(phones):
    """Each number's owner, a volunteer or a peer, in two queries however many numbers."""
    found = {}
    for peer in Peer.objects.filter(phone__in=phones).only("pk", "preferred_name", "phone"):
        found[str(peer.phone)] = Sender(f"{peer.reference} ({peer.preferred_name}), a peer")
    for volunteer in Volunteer.objects.filter(phone__in=phones).only(
        "pk", "preferred_name", "full_name", "phone"
    ):
        found[str(volunteer.phone)] = Sender(
            f"{volunteer.preferred_name} ({volunteer.full_name})", volunteer
        )
    return found


def replies_with_context(replies):
    """Give each reply `answered_text` (the text it replies to, or None), `sender` and its
    number in words, in a fixed number of queries. (Not `answers`: that is the reverse side
    of `answered_by`, which Django looks up again, one query a row, when it was set to None.)"""
    answered = Message.objects.in_bulk({reply.answers_id for reply in replies} - {None})
    people = senders({str(reply.from_number) for reply in replies if reply.from_number})
    for reply in replies:
        reply.answered_text = answered.get(reply.answers_id)
        number = reply.from_number.as_national if reply.from_number else "an unknown number"
        reply.number = number
        reply.sender = people.get(str(reply.from_number), Sender("Nobody on record"))
    return replies


def shown(replies):
    """Received texts with what each answers and whether their number opted out since."""
    return replies.with_what_they_answer().annotate(
        opted_out=Exists(OptOut.objects.current().filter(phone=OuterRef("from_number")))
    )


def inbox_rows():
    return replies_with_context(
        list(shown(Message.objects.replies_needing_attention())[: SHOWN + 1])
    )


def reply_row(pk):
    """One received text as its row shows it, handled or not."""
    return replies_with_context([shown(Message.objects.inbound()).get(pk=pk)])[0]


def reply_forms(reply, bound=None):
    """The answer and the handle forms of one reply's row; `bound` is (action, form) just
    posted for it, shown with its errors."""
    reply.forms = {
        "answer": AnswerForm(auto_id=control_ids(f"reply-{reply.pk}-answer")),
        "handle": HandleReplyForm(auto_id=control_ids(f"reply-{reply.pk}-handle")),
    }
    reply.open_action = None
    if bound is not None:
        reply.forms[bound[0]] = bound[1]
        reply.open_action = bound[0]
    return reply


class Inbox(Page):
    template_name = "dashboard/inbox.html"
    nav = "inbox"

    def get_context_data(self, bound=None, **kwargs):
        """`bound` is (reply id, action, form) when a posted form is shown again."""
        replies = inbox_rows()
        more = len(replies) > SHOWN
        replies = replies[:SHOWN]
        refusals, listed = [], False
        for reply in replies:
            posted = None
            if bound is not None and bound[0] == reply.pk:
                posted, listed = bound[1:], True
            reply_forms(reply, posted)
        if bound is not None and not listed:
            refusals = errors_of(bound[2])
        return super().get_context_data(
            replies=replies, more=more, limit=SHOWN, refusals=refusals, **kwargs
        )


class ReplyAction(CoordinatorRequired, View):
    """Answer or handle one reply: POST only, one form, one service."""

    http_method_names = ["post"]
    action = None
    form_class = None

    def post(self, request, pk):
        reply = get_object_or_404(Message.objects.inbound(), pk=pk)
        form = self.form_class(request.POST, auto_id=control_ids(f"reply-{pk}-{self.action}"))
        if form.is_valid():
            try:
                done = self.act(reply, form.cleaned_data)
            except ValidationError as refusal:
                add_refusal(form, refusal)
            else:
                if request.htmx:
                    return TemplateResponse(
                        request,
                        "dashboard/inbox_reply_handled.html",
                        {"reply": reply_row(pk), "notice": done},
                    )
                messages.success(request, done)
                return redirect(f"{reverse('dashboard:inbox')}#replies")
        if request.htmx:
            return self.row_with_errors(request, pk, form)
        page = Inbox()
        page.setup(request)
        return TemplateResponse(
            request,
            page.template_name,
            page.get_context_data(bound=(pk, self.action, form)),
            status=400,
        )

    def row_with_errors(self, request, pk, form):
        """The row again with the form's errors; a reply handled meanwhile shows as handled,
        with the refusal said at its top."""
        row = reply_row(pk)
        if not row.needs_attention:
            return TemplateResponse(
                request,
                "dashboard/inbox_reply_handled.html",
                {"reply": row, "refusal": errors_of(form)},
                status=400,
            )
        return TemplateResponse(
            request,
            "dashboard/inbox_reply.html",
            {"reply": reply_forms(row, (self.action, form))},
            status=400,
        )


class AnswerReply(ReplyAction):
    action = "answer"
    form_class = AnswerForm

    def act(self, reply, data):
        answer = follow_ups.text_back(reply, body=data["body"], by=self.request.user)
        if answer.send_after > answer.created_at:
            return (
                f"The answer to {reply.from_number.as_national} waits for the end of quiet "
                f"hours, {local_time(answer.send_after)}; the reply is handled."
            )
        return f"The answer to {reply.from_number.as_national} is on its way; the reply is handled."


class HandleReply(ReplyAction):
    action = "handle"
    form_class = HandleReplyForm

    def act(self, reply, data):
        follow_ups.handle_reply(reply, by=self.request.user, note=data["note"])
        return f"Handled: the reply from {reply.from_number.as_national}."
