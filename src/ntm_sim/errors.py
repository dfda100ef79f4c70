"""Problems found in input, reported with their place in the file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ntm_sim.messages import Text, from_json, problem_line

__all__ = ["InputError", "Problem", "ProblemLog", "Severity", "Text"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem in an input file, with where it is and what was expected.

    Parameters
    ----------
    file
        File name as the user gave it.
    message
        What is wrong, in one sentence: a :class:`~ntm_sim.messages.Text` of the message
        catalogue (a key and its fields, shown in the user's language; as a ``str``, the
        English text).
    sheet
        Sheet name for workbooks.
    row
        1-based row number as Excel or a text editor shows it.
    column
        Column letter (Excel) or column name (CSV), optionally with its header.
    expected
        What the tool expected there (a :class:`~ntm_sim.messages.Text`).
    found
        What it found instead: the cell's text, or a :class:`~ntm_sim.messages.Text`
        when that is words of the tool's (``a formula``).
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
    def key(self) -> str | None:
        """The catalogue key of the message (None for a message that is plain text)."""
        return self.message.key if isinstance(self.message, Text) else None

    @property
    def fields(self) -> dict[str, object]:
        """The fields of the message's text (empty for plain text)."""
        return dict(self.message.fields) if isinstance(self.message, Text) else {}

    @property
    def location(self) -> str:
        """Return ``file, sheet 'S', row R, column C``, leaving out unknown parts."""
        return _location(self)

    def __str__(self) -> str:
        return problem_line(self, "en")

    def render(self, lang: str = "vi") -> str:
        """The problem as the command line shows it, in ``lang`` (``vi`` or ``en``)."""
        return problem_line(self, lang)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict that keeps the texts' keys and fields (see :meth:`from_json`)."""
        out: dict[str, object] = {}
        for name in ("file", "message", "sheet", "row", "column", "expected", "found", "severity"):
            value = getattr(self, name)
            out[name] = value.to_json() if isinstance(value, Text) else value
        return out

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Problem:
        """The problem :meth:`to_json` wrote."""
        return cls(**{k: from_json(v) for k, v in data.items()})  # type: ignore[arg-type]


def _location(p: Problem) -> str:
    parts = [p.file]
    if p.sheet is not None:
        parts.append(f"sheet '{p.sheet}'")
    if p.row is not None:
        parts.append(f"row {p.row}")
    if p.column is not None:
        parts.append(f"column {p.column}")
    return ", ".join(parts)


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
                found=None if found is None else found if isinstance(found, str) else str(found),
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
