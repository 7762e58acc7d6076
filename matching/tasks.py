"""The queue's entry points: thin wrappers over the passes of matching.reminders,
matching.check_ins and matching.wellbeing."""

from matching import check_ins, reminders, wellbeing

# What the schedule runs every few minutes, in this order: each pass's name in the result,
# and the pass. The weekly wellbeing check-in comes after the session texts, which cannot
# wait. A new pass joins the table.
PASSES = [
    ("reminded", reminders.send_due_reminders),
    ("flagged_at_risk", reminders.flag_at_risk),
    ("checked_in", check_ins.send_due_check_ins),
    ("check_ins_unanswered", check_ins.raise_unanswered_check_ins),
    ("wellbeing_asked", wellbeing.send_wellbeing_check_ins),
    ("wellbeing_unanswered", wellbeing.raise_unanswered_follow_ups),
]


def session_passes():
    """Run every pass in PASSES in order; returns what each did, by name."""
    return {name: run() for name, run in PASSES}
