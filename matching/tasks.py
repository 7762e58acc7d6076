"""The queue's entry points: thin wrappers over matching.reminders."""

from matching import reminders


def session_passes():
    """What the schedule runs every few minutes: due reminders, then at-risk flags."""
    return {
        "reminded": reminders.send_due_reminders(),
        "flagged_at_risk": reminders.flag_at_risk(),
    }
