from django.db import models
from django.db.models import Q
from django.utils import timezone

from peers.models import Peer
from volunteers.models import Volunteer


class MatchQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Match.Status.ACTIVE)


class Match(models.Model):
    """A volunteer supporting a peer, from proposal to end."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        DECLINED = "declined", "Declined"
        ENDED = "ended", "Ended"

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="matches")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="matches")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    proposed_at = models.DateTimeField(default=timezone.now)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    objects = MatchQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "matches"
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["peer"],
                condition=Q(status__in=["proposed", "active"]),
                name="one_open_match_per_peer",
                violation_error_message="This peer already has a proposed or active match.",
            )
        ]
        indexes = [models.Index(fields=["volunteer", "status"])]

    def __str__(self):
        return f"{self.volunteer.preferred_name} with {self.peer.reference}"
