"""Suggestions for many peers at once: each peer's best few volunteers, in one pass.

`engine.suggest` answers for one peer, in a handful of queries; a page of the waiting list
asking it for each of 25 peers would cost 25 times as many. `top_suggestions` reads what the
rules and scores need for all the peers, and for every volunteer who may be matched on the
day, in a fixed number of queries; judges every pair at once with the engine's `pair_rules`
and `score_parts`, on matrices of peers (rows) by volunteers (columns), as bulk assignment
does; and keeps each peer's best `k`. Each peer gets the volunteers, scores and words that
`suggest(peer, limit=k)` gives them, ties broken the same way (by the volunteer's id).

The hard rules are the engine's: active, required training and PVG current, not away
(`engine.trained_and_present`, in SQL), fewer active matches than their capacity, and the
pair's rules (exclusion, meeting, gender, language) on the matrices. A volunteer whose
capacity is 0 is never suggested, as `why_not` refuses them.
"""

import functools

import numpy as np
from django.db.models import Q
from django.utils import timezone

from community.models import Focus, Language
from matching import engine
from matching.models import Exclusion
from peers.models import PreferredTime
from volunteers.models import AvailabilityWindow, Volunteer

SUGGESTIONS_PER_PEER = 3


def top_suggestions(peers, k=SUGGESTIONS_PER_PEER, *, on=None):
    """{peer id: [Suggestion, ...]} for each of `peers` (Peer objects), best first, at most
    `k` each; a peer nobody may support gets an empty list.

    The number of queries does not depend on how many peers or volunteers there are.
    """
    on = on or timezone.localdate()
    peers = sorted(peers, key=lambda peer: peer.pk)
    if not peers:
        return {}
    data = _Loaded.of(peers, on=on)
    found = {peer.pk: [] for peer in peers}
    if not len(data.volunteers.ids):
        return found
    shape = (len(peers), len(data.volunteers.ids))
    rules = engine.pair_rules(data.peers, data.volunteers, data.pairs)
    eligible = np.broadcast_to(functools.reduce(np.logical_and, rules.values()), shape)
    parts = {
        name: np.broadcast_to(part, shape)
        for name, part in engine.score_parts(data.peers, data.volunteers, data.pairs).items()
    }
    scores = np.broadcast_to(engine.total_score(parts), shape)
    # Best first; the columns are in id order, so a stable sort breaks ties by id.
    ranked = np.argsort(np.where(eligible, -scores, np.inf), axis=1, kind="stable")[:, :k]
    chosen = [(p, int(v)) for p in range(len(peers)) for v in ranked[p] if eligible[p, v]]
    volunteers = Volunteer.objects.select_related("area").in_bulk(
        sorted({int(data.volunteers.ids[v]) for _, v in chosen})
    )
    for p, v in chosen:
        peer, volunteer = peers[p], volunteers[int(data.volunteers.ids[v])]
        found[peer.pk].append(
            engine.Suggestion(
                volunteer=volunteer,
                score=round(float(scores[p, v]), 3),
                reasons=engine.reasons_for(
                    data.story(p, v, peer, volunteer),
                    {name: part[p, v] for name, part in parts.items()},
                ),
            )
        )
    return found


class _Loaded:
    """The peers (id order) and every volunteer who may be matched, as the engine's arrays."""

    @classmethod
    def of(cls, peers, *, on):
        loaded = cls()
        loaded.areas = engine.AreaGrid.load()
        peer_ids = np.array([peer.pk for peer in peers], dtype=np.int64)
        language_rows = list(
            Language.objects.filter(peers__in=peer_ids.tolist())
            .order_by()
            .values_list("peers", "id", "name")
        )
        focus_rows = list(
            Focus.objects.filter(peers__in=peer_ids.tolist())
            .order_by()
            .values_list("peers", "id", "name")
        )
        loaded.language_names = {pk: name for _, pk, name in language_rows}
        loaded.focus_names = {pk: name for _, pk, name in focus_rows}
        loaded.language_ids = sorted(loaded.language_names)
        loaded.focus_ids = sorted(loaded.focus_names)
        loaded.peer_languages = engine.incidence(
            [(peer, pk) for peer, pk, _ in language_rows], peer_ids, loaded.language_ids
        )
        loaded.peer_focuses = engine.incidence(
            [(peer, pk) for peer, pk, _ in focus_rows], peer_ids, loaded.focus_ids
        )
        times = list(
            PreferredTime.objects.filter(peer__in=peer_ids.tolist()).values_list(
                "peer_id", "weekday", "starts_at", "ends_at"
            )
        )
        peer_windows = engine.window_arrays(times, peer_ids)
        has_times = np.zeros(len(peer_ids), dtype=bool)
        has_times[peer_windows[0]] = True
        loaded.peers = engine.PeerArrays(
            ids=peer_ids,
            area=loaded.areas.index([peer.area_id for peer in peers]),
            gender=engine.gender_codes([peer.gender for peer in peers]),
            wants_gender=np.array(
                [engine.wanted_gender_code(peer.preferred_supporter_gender) for peer in peers],
                dtype=np.int64,
            ),
            in_person=np.array([peer.meets_in_person for peer in peers], dtype=bool),
            phone=np.array([peer.meets_by_phone for peer in peers], dtype=bool),
            video=np.array([peer.meets_by_video for peer in peers], dtype=bool),
            language_count=loaded.peer_languages.sum(axis=1),
            focus_count=loaded.peer_focuses.sum(axis=1),
            has_times=has_times,
        )

        loaded.volunteers = engine.volunteers_with_room(
            loaded.areas, on=on, proposals_take_room=False
        )
        ids = loaded.volunteers.ids
        active = Q(volunteer__status=Volunteer.Status.ACTIVE)
        loaded.volunteer_languages = engine.incidence(
            list(
                Volunteer.languages.through.objects.filter(
                    active, language_id__in=loaded.language_ids
                )
                .order_by()
                .values_list("volunteer_id", "language_id")
            ),
            ids,
            loaded.language_ids,
        )
        loaded.volunteer_focuses = engine.incidence(
            list(
                Volunteer.focuses.through.objects.filter(active, focus_id__in=loaded.focus_ids)
                .order_by()
                .values_list("volunteer_id", "focus_id")
            ),
            ids,
            loaded.focus_ids,
        )
        volunteer_windows = engine.window_arrays(
            list(
                AvailabilityWindow.objects.filter(active, _during(times))
                .order_by()
                .values_list("volunteer_id", "weekday", "starts_at", "ends_at")
            ),
            ids,
        )
        loaded.last = engine.last_supported(peer_ids.tolist())
        excluded = Exclusion.objects.filter(peer__in=peer_ids.tolist()).values_list(
            "peer_id", "volunteer_id"
        )
        loaded.pairs = engine.PairArrays(
            distance_km=loaded.areas.km[np.ix_(loaded.peers.area, loaded.volunteers.area)],
            overlap_hours=engine.weekly_overlap_hours(
                peer_windows, volunteer_windows, peers=len(peer_ids), volunteers=len(ids)
            ),
            shared_languages=loaded.peer_languages @ loaded.volunteer_languages.T,
            shared_focuses=loaded.peer_focuses @ loaded.volunteer_focuses.T,
            continuity=engine.incidence(list(loaded.last), peer_ids, ids).astype(bool),
            excluded=engine.incidence(list(excluded), peer_ids, ids).astype(bool),
        )
        return loaded

    def story(self, p, v, peer, volunteer):
        """The words' facts about the peer in row `p` and the volunteer in column `v`."""
        peer_languages = _picked(self.language_ids, self.peer_languages[p])
        peer_focuses = _picked(self.focus_ids, self.peer_focuses[p])
        return engine.PairStory.between(
            peer,
            volunteer,
            areas=self.areas,
            distance_km=float(self.pairs.distance_km[p, v]),
            overlap_hours=float(self.pairs.overlap_hours[p, v]),
            peer_has_times=bool(self.peers.has_times[p]),
            shared_focuses=[
                self.focus_names[pk]
                for pk in peer_focuses
                if self.volunteer_focuses[v, self.focus_ids.index(pk)]
            ],
            peer_focuses=[self.focus_names[pk] for pk in peer_focuses],
            shared_languages=[
                self.language_names[pk]
                for pk in peer_languages
                if self.volunteer_languages[v, self.language_ids.index(pk)]
            ],
            peer_languages=[self.language_names[pk] for pk in peer_languages],
            active=int(self.volunteers.active[v]),
            proposed=int(self.volunteers.proposed[v]),
            supported_until=self.last.get((peer.pk, volunteer.pk)),
        )


def _during(times):
    """Only availability that can overlap one of the peers' preferred times."""
    overlapping = Q(pk__in=[])
    for weekday, starts_at, ends_at in {row[1:] for row in times}:
        overlapping |= Q(weekday=weekday, starts_at__lt=ends_at, ends_at__gt=starts_at)
    return overlapping


def _picked(ids, flags):
    return [pk for pk, flag in zip(ids, flags, strict=True) if flag]
