"""Problems found in input, reported with their place in the file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem in an input file, with where it is and what was expected.

    Parameters
    ----------
    file
        File name as the user gave it.
    message
        What is wrong, in one sentence.
    sheet
        Sheet name for workbooks.
    row
        1-based row number as Excel or a text editor shows it.
    column
        Column letter (Excel) or column name (CSV), optionally with its header.
    expected
        What the tool expected there.
    found
        What it found instead.
    severity
        ``"error"`` stops the run; ``"warning"`` is reported and the run goes on.
    """

    file: str
    message: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    expected: str | None = None
    found: str | None = None
    severity: Severity = "error"

    @property
    def location(self) -> str:
        """Return ``file, sheet 'S', row R, column C``, leaving out unknown parts."""
        parts = [self.file]
        if self.sheet is not None:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.expected is not None:
            text += f"; expected {self.expected}"
        if self.found is not None:
            text += f", found {self.found!r}"
        return text


class InputError(Exception):
    """Raised when input cannot be used; carries every problem found.

    Parameters
    ----------
    problems
        All problems found (errors and warnings).
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{len(errors)} problem(s) in the input"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in errors))

    @property
    def errors(self) -> list[Problem]:
        """The problems of severity ``"error"``."""
        return [p for p in self.problems if p.severity == "error"]


class ProblemLog:
    """Collects problems while reading, so every one is reported at once."""

    def __init__(self, file: str, sheet: str | None = None) -> None:
        self.file = file
        self.sheet = sheet
        self.problems: list[Problem] = []

    def error(self, message: str, **where: object) -> None:
        """Record an error at a place (row, column, sheet, expected, found)."""
        self._add(message, "error", where)

    def warn(self, message: str, **where: object) -> None:
        """Record a warning at a place."""
        self._add(message, "warning", where)

    def _add(self, message: str, severity: Severity, where: dict[str, object]) -> None:
        found = where.pop("found", None)
        self.problems.append(
            Problem(
                file=str(where.pop("file", self.file)),
                sheet=where.pop("sheet", self.sheet),  # type: ignore[arg-type]
                message=message,
                severity=severity,
                found=None if found is None else str(found),
                **where,  # type: ignore[arg-type]
            )
        )

    @property
    def has_errors(self) -> bool:
        """Whether any error was recorded."""
        return any(p.severity == "error" for p in self.problems)

    def raise_if_errors(self) -> None:
        """Raise :class:`InputError` if any error was recorded."""
        if self.has_errors:
            raise InputError(self.problems)
