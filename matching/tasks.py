"""The queue's entry points: thin wrappers over matching.reminders and matching.check_ins."""

from matching import check_ins, reminders


def session_passes():
    """What the schedule runs every few minutes: due reminders, at-risk flags, after-session
    check-ins, then follow-ups for check-ins left unanswered."""
    return {
        "reminded": reminders.send_due_reminders(),
        "flagged_at_risk": reminders.flag_at_risk(),
        "checked_in": check_ins.send_due_check_ins(),
        "check_ins_unanswered": check_ins.raise_unanswered_check_ins(),
    }
