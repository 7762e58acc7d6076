"""The queue's entry points: thin wrappers over matching.reminders, matching.check_ins and
matching.wellbeing."""

from matching import check_ins, reminders, wellbeing


def session_passes():
    """What the schedule runs every few minutes: due reminders, at-risk flags, after-session
    check-ins, follow-ups for check-ins left unanswered, then the weekly wellbeing check-in
    (after the session texts, which cannot wait) and its follow-ups."""
    return {
        "reminded": reminders.send_due_reminders(),
        "flagged_at_risk": reminders.flag_at_risk(),
        "checked_in": check_ins.send_due_check_ins(),
        "check_ins_unanswered": check_ins.raise_unanswered_check_ins(),
        "wellbeing_asked": wellbeing.send_wellbeing_check_ins(),
        "wellbeing_unanswered": wellbeing.raise_unanswered_follow_ups(),
    }
