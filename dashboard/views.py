"""The coordinator's pages: thin views over the apps' querysets and services."""

from django.db.models import Q
from django.views.generic import TemplateView

from community.phones import phone_problem, to_phone
from dashboard.access import CoordinatorRequired
from peers.models import Peer
from volunteers.models import Volunteer


class Page(CoordinatorRequired, TemplateView):
    """A dashboard page: coordinators only, and `nav` names its place in the navigation."""

    nav = None

    def get_context_data(self, **kwargs):
        return super().get_context_data(nav=self.nav, **kwargs)


class Today(Page):
    template_name = "dashboard/today.html"
    nav = "today"


class Search(Page):
    """One box from every page: a volunteer by the words of their name or by their phone in
    any UK form ("07700 900123" finds +447700900123), or a peer by reference ("P-000123")."""

    template_name = "dashboard/search.html"
    limit = 25

    def get_context_data(self, **kwargs):
        term = " ".join(self.request.GET.get("q", "").replace("\x00", "").split())[:100]
        context = super().get_context_data(search_term=term, limit=self.limit, **kwargs)
        if not term:
            return context
        phone = to_phone(term).as_e164 if phone_problem(term) is None else None
        if phone:
            found = Q(phone=phone)
        else:
            found = Q()
            for word in term.split():
                found &= Q(preferred_name__icontains=word) | Q(full_name__icontains=word)
        volunteers = list(Volunteer.objects.filter(found).select_related("area")[: self.limit + 1])
        peer_id = Peer.id_from_reference(term)
        context.update(
            phone=to_phone(phone).as_national if phone else None,
            volunteers=volunteers[: self.limit],
            more_volunteers=len(volunteers) > self.limit,
            reference_like=peer_id is not None,
            peer=(
                Peer.objects.select_related("area").filter(pk=peer_id).first()
                if peer_id is not None
                else None
            ),
        )
        return context
