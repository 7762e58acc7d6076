"""The queue's entry points: thin wrappers over the passes of matching.reminders,
matching.check_ins, matching.wellbeing, matching.peer_check_ins and matching.follow_ups."""

from matching import check_ins, follow_ups, peer_check_ins, reminders, wellbeing

# What the schedule runs every few minutes, in this order: each pass's name in the result,
# and the pass. The weekly wellbeing check-in comes after the session texts, which cannot
# wait; then the peers' weekly check-in (nothing outside its moment); the follow-ups found
# in texts and training records come last. A new pass joins the table.
PASSES = [
    ("reminded", reminders.send_due_reminders),
    ("flagged_at_risk", reminders.flag_at_risk),
    ("checked_in", check_ins.send_due_check_ins),
    ("check_ins_unanswered", check_ins.raise_unanswered_check_ins),
    ("wellbeing_asked", wellbeing.send_wellbeing_check_ins),
    ("wellbeing_unanswered", wellbeing.raise_unanswered_follow_ups),
    ("peers_checked_in", peer_check_ins.send_peer_check_ins),
    ("follow_ups_for_texts", follow_ups.raise_for_texts),
    ("follow_ups_for_training", follow_ups.raise_for_training),
]


def session_passes():
    """Run every pass in PASSES in order; returns what each did, by name."""
    return {name: run() for name, run in PASSES}
