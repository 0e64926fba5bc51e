"""Planned defects: the token endpoint breaks its next N tokens on purpose.

This is how an agent's own token validation is tested: plan ``expired`` ID tokens for
``demo-app`` once, run the sign-in, and the agent must refuse what it receives. Plans come from
``MockIdP.plan_defects``, the ``token_defects`` config key (and so the pytest marker) and the
control API; ``state.reset()`` goes back to the configured ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..config import IdPConfig
from ..errors import ConfigError, MockIdPError
from ..loading import located
from .catalog import resolve_defects
from .model import TokenKind


@dataclass(frozen=True, slots=True)
class DefectSource:
    """Which defects a token gets: the token endpoint's plan, or exactly the named ones.

    Explicit rather than ``None`` ("use the plan") versus ``()`` ("none"), which read alike.
    """

    names: tuple[str, ...] = ()
    planned: bool = False

    @classmethod
    def plan(cls) -> DefectSource:
        """Whatever the IdP's defect plan holds for this token (the token endpoint)."""
        return cls(planned=True)

    @classmethod
    def exactly(cls, names: Iterable[str] = ()) -> DefectSource:
        """These catalog entries, and no plan (``MockIdP.issue_token``, the control API)."""
        if isinstance(names, str):  # tuple("expired") would be seven one-letter names
            raise MockIdPError(f"defects must be a list of names, not the string {names!r}")
        return cls(tuple(names))

    def take(self, plan: DefectPlan, token: TokenKind, client_id: str) -> tuple[str, ...]:
        """The names for one token, consuming the plan when it is the source."""
        return tuple(plan.take(token, client_id)) if self.planned else self.names


#: the token endpoint's source: the plan
PLANNED = DefectSource.plan()
#: a well-formed token
NO_DEFECTS = DefectSource.exactly()


def check_planned_defects(config: IdPConfig) -> None:
    """Every ``token_defects`` plan of ``config`` names catalog defects that fit its token kind.

    Run when an IdP is built (and when a scenario is loaded): the config model sits below the
    catalog, so it checks only the form of a plan. The ConfigError names the key path, and the
    file and line when the config was read from one.
    """
    for i, plan in enumerate(config.token_defects):
        try:
            resolve_defects(plan.defects, plan.token)
        except MockIdPError as exc:
            error = ConfigError(str(exc), key_path=f"token_defects[{i}].defects")
            raise located(config, error) from None


@dataclass(slots=True)
class PlannedDefects:
    """Break tokens of ``token`` kind (for ``client_id``, or any client) ``times`` more times."""

    defects: tuple[str, ...]
    token: TokenKind = "access"
    client_id: str | None = None
    #: how many more tokens to break; ``None``: every one
    times: int | None = 1

    def matches(self, token: TokenKind, client_id: str) -> bool:
        return self.token == token and self.client_id in (None, client_id) and self.times != 0


class DefectPlan:
    """The planned defects of one IdP, consumed first-planned first as tokens are issued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[PlannedDefects] = []
        self._configured: tuple[PlannedDefects, ...] = ()

    def add(
        self,
        defects: Sequence[str],
        *,
        token: TokenKind = "access",
        client_id: str | None = None,
        times: int | None = 1,
    ) -> PlannedDefects:
        """Plan ``defects`` (checked against the catalog) for the next ``times`` tokens."""
        if token not in ("access", "id", "id-jag"):
            raise MockIdPError(f"token must be 'access', 'id' or 'id-jag', not {token!r}")
        if times is not None and times < 1:
            raise MockIdPError("times must be a positive number, or None for every token")
        resolve_defects(list(defects), token)
        entry = PlannedDefects(tuple(defects), token, client_id, times)
        with self._lock:
            self._entries.append(entry)
        return entry

    def take(self, token: TokenKind, client_id: str) -> tuple[str, ...]:
        """The defects for the token about to be issued (consuming one use), or ``()``."""
        with self._lock:
            for entry in self._entries:
                if entry.matches(token, client_id):
                    if entry.times is not None:
                        entry.times -= 1
                    return entry.defects
        return ()

    @property
    def pending(self) -> list[PlannedDefects]:
        with self._lock:
            return [e for e in self._entries if e.times != 0]

    def configure(self, entries: Iterable[PlannedDefects]) -> None:
        """The plans from the config: restored by every :meth:`reset`."""
        self._configured = tuple(entries)
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._entries = [
                PlannedDefects(e.defects, e.token, e.client_id, e.times) for e in self._configured
            ]

    def clear(self) -> None:
        """Drop every plan, configured ones included, until the next reset."""
        with self._lock:
            self._entries = []
