"""The queue's entry points: thin wrappers over matching.reminders."""

from matching import reminders

# What the schedule runs every few minutes, in this order: each pass's name in the result,
# and the pass. A new pass joins the table.
PASSES = [
    ("reminded", reminders.send_due_reminders),
    ("flagged_at_risk", reminders.flag_at_risk),
]


def session_passes():
    """Run every pass in PASSES in order; returns what each did, by name."""
    return {name: run() for name, run in PASSES}
