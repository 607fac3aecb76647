"""Workflows as data: each area declares its transitions once; pages list the allowed actions and
services refuse anything else, so hiding a button is never the only guard."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _


class TransitionError(ValueError):
    """A transition that is not allowed now (HTTP 409); the message is for the user."""


@dataclass(frozen=True)
class Transition:
    name: str  # the action, as posted by the form
    sources: tuple[str, ...]  # states it may start from
    target: str | None  # the state it leads to (None: stays)
    roles: frozenset[str]  # who may do it
    label: object  # lazy_gettext text for the button
    style: str = ""  # "primary" or "danger" for the button
    owner_only: bool = False  # a salesperson only on their own customers' records (managers always)
    fields: tuple[str, ...] = field(default=())  # form fields the action asks for


class Workflow:
    def __init__(self, transitions: list[Transition], state_attr: str = "state"):
        self.transitions = {t.name: t for t in transitions}
        self.state_attr = state_attr

    def allowed(self, record, user, owns: bool = True) -> list[Transition]:
        """The transitions `user` may take on `record` now, in declaration order."""
        state = getattr(record, self.state_attr)
        return [t for t in self.transitions.values() if state in t.sources and self._may(t, user, owns)]

    def check(self, record, user, name: str, owns: bool = True) -> Transition:
        """The transition `name` if allowed now, else TransitionError."""
        transition = self.transitions.get(name)
        state = getattr(record, self.state_attr)
        if transition is None or state not in transition.sources:
            raise TransitionError(_("This action is not possible in the current state."))
        if not self._may(transition, user, owns):
            raise TransitionError(_("You may not do this."))
        return transition

    @staticmethod
    def _may(transition: Transition, user, owns: bool) -> bool:
        if user.role not in transition.roles:
            return False
        return owns or not transition.owner_only or user.role in ("admin", "manager")
