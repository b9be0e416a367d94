"""Errors a planner can act on, each with the exit code of ``solve.py`` (docs/contract.md §6)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_NO_DESIGN = 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class ScaleacrossError(Exception):
    """Base class: ``exit_code`` is what ``solve.py`` returns for it."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class InputError(ScaleacrossError):
    """The data set is invalid: every problem names file, row, column, value and expectation."""

    exit_code = EXIT_INPUT


class InfeasibleError(ScaleacrossError):
    """The requirements cannot all be met; the message says which."""

    exit_code = EXIT_INFEASIBLE


class NoDesignError(ScaleacrossError):
    """The solver found no design within the time or gap limits."""

    exit_code = EXIT_NO_DESIGN


class BusyError(InputError):
    """Another run is writing the same results folder (exit 2: try again when it is done)."""


class DesignCheckError(ScaleacrossError):
    """The solved design failed the independent re-check: a bug, never a user error."""

    exit_code = EXIT_ERROR


def quoted(value: object, limit: int = 60) -> str:
    """``value`` quoted for a message: control characters escaped (``'\\x07'``), never raw,
    and cut to about ``limit`` characters (``'abc…'``) so a garbage cell cannot flood it."""
    text = value if isinstance(value, str) else str(value)
    cut = len(text) > limit
    shown = repr(text[:limit] if cut else text)
    return shown[:-1] + "…" + shown[-1] if cut else shown


def escaped(value: object, limit: int = 60) -> str:
    """Like :func:`quoted` without the quotes: for names shown bare (a column name)."""
    return quoted(value, limit)[1:-1]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT): the run stopped and wrote nothing more; the message says what is
    left. A KeyboardInterrupt, so no ``except Exception`` swallows it on its way out."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = "earlier results are left as they were") -> None:
        super().__init__(message)
