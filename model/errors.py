"""Errors a planner can act on, each with the exit code of ``solve.py`` (MODEL.md §6)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_NO_DESIGN = 4


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


class DesignCheckError(ScaleacrossError):
    """The solved design failed the independent re-check: a bug, never a user error."""

    exit_code = EXIT_ERROR
