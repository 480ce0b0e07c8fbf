"""Errors a rule raises before anything changes. They say what was refused, in words for the
person who asked; which HTTP answer that becomes is the web layer's business
(tracker.web.errors.STATUSES, and each blueprint's error handler)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.domain.wip import Breach


class DomainError(Exception):
    """A rule refused the request; the message is for the person who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(DomainError):
    """The request names something that cannot be done (bad target, wrong state)."""


class NotFound(DomainError):
    """The thing asked for does not exist here (or the person may not know it does)."""


class NotAllowed(DomainError):
    """The person's role does not allow this."""


class WipLimitExceeded(DomainError):
    """A move would raise a count that is already at its limit."""

    def __init__(self, breaches: list[Breach], *, overridable: bool, reason_given: bool) -> None:
        lines = [b.message() for b in breaches]
        if overridable and not reason_given:
            lines.append("To go over the limit anyway, write why.")
        elif not overridable:
            lines.append("Only a lead can override this limit.")
        super().__init__(" ".join(lines))
        self.breaches = breaches
        self.overridable = overridable


class StaleCard(DomainError):
    """The card changed since the person loaded it; their edit would overwrite someone's."""

    def __init__(self, current: Any) -> None:
        super().__init__(
            "Someone changed this card while you were editing it. The form now shows the "
            "current values; your text is kept below so you can apply it again."
        )
        self.current = current
