"""The queue's entry points: thin wrappers over matching.reminders and matching.follow_ups."""

from matching import follow_ups, reminders


def session_passes():
    """What the schedule runs every few minutes: due reminders, then at-risk flags, then the
    follow-ups found in texts and training records."""
    return {
        "reminded": reminders.send_due_reminders(),
        "flagged_at_risk": reminders.flag_at_risk(),
        "follow_ups_for_texts": follow_ups.raise_for_texts(),
        "follow_ups_for_training": follow_ups.raise_for_training(),
    }
