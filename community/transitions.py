"""Status machines: which moves a record may make, and the words for a refused one."""

from django.core.exceptions import ValidationError

from community.errors import StateConflict


class Transitions:
    """The allowed moves between the statuses of one kind of record.

    `moves` maps each status to the statuses it may become. `check` answers the target status,
    or raises: ValidationError for a status that does not exist, StateConflict (the API's 409)
    for a move that is not allowed, naming the moves that are.
    """

    def __init__(self, statuses, moves):
        self.statuses = statuses
        self.moves = moves

    def allowed_from(self, current):
        return [status for status in self.statuses if status in self.moves[current]]

    def check(self, *, current, to, who):
        try:
            target = self.statuses(to)
        except ValueError:
            choices = ", ".join(self.statuses.values)
            raise ValidationError(
                {"status": f"“{to}” is not a status. Choose one of: {choices}."}
            ) from None
        current = self.statuses(current)
        if target == current:
            raise StateConflict(
                f"{who} is already {target.label.lower()}; nothing was changed.",
                code="already_in_status",
            )
        if target not in self.moves[current]:
            was, wanted = current.label.lower(), target.label.lower()
            allowed = ", ".join(status.label.lower() for status in self.allowed_from(current))
            raise StateConflict(
                f"{who} is {was} and cannot become {wanted}; from {was} they can become: "
                f"{allowed}.",
                code="invalid_transition",
            )
        return target
