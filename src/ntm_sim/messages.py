"""One catalogue of the texts the dashboard shows, in Vietnamese (default) and English.

Texts are looked up by key and filled with :meth:`str.format` fields
(``Catalogue("en")("run.done", name=…)``); a key missing in a language falls back to
Vietnamese, and a key missing altogether is an error (a test checks both languages hold
the same keys and fields). Problems found in a planner's files
(:class:`ntm_sim.errors.Problem`, written in English by the readers) are shown in the
page's language by :meth:`Catalogue.problem`: where (file, sheet, row, column), what was
expected and what was found in the reader's words, and the most common messages
translated (:data:`PROBLEM_VI`; others stay as the reader wrote them). Times are shown
in Vietnam time (UTC+7, no daylight saving).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Literal

import yaml

from ntm_sim.errors import Problem
from ntm_sim.text import format_number_vi

Lang = Literal["vi", "en"]
LANGS: dict[str, str] = {"vi": "Tiếng Việt", "en": "English"}
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
MAX_ITEMS = 30  # problems listed on a page; the rest counted (a blank template has thousands)
GROUP_FROM = 4  # this many problems with one message in one column are shown as one line

_CATALOGUE = yaml.safe_load(resources.files("ntm_sim").joinpath("data/messages.yaml").read_text(encoding="utf-8"))
#: every text by key, then language (data/messages.yaml)
MESSAGES: dict[str, dict[str, str]] = _CATALOGUE["messages"]
#: the readers' most common messages (English, see ntm_sim.io) in Vietnamese: pattern → template
PROBLEM_VI: list[tuple[re.Pattern[str], str]] = [(re.compile(p), t) for p, t in _CATALOGUE["problems_vi"]]


def translate_problem_text(text: str) -> str:
    """A reader's message (or expected/found text) in Vietnamese when it is a known one, else as it is."""
    for pattern, template in PROBLEM_VI:
        m = pattern.match(text)
        if m:
            return template.format(*m.groups())
    return text


@dataclass(frozen=True)
class Catalogue:
    """The texts of one language: ``t("run.done", name=…)``.

    Parameters
    ----------
    lang
        ``vi`` (default) or ``en``; anything else is Vietnamese.
    """

    lang: Lang = "vi"

    @classmethod
    def of(cls, lang: object) -> Catalogue:
        """The catalogue of ``lang`` as a client sent it (unknown values: Vietnamese)."""
        return cls("en" if lang == "en" else "vi")

    def __call__(self, key: str, *args: object, **fields: object) -> str:
        """The text of ``key`` in this language, its fields filled in."""
        entry = MESSAGES[key]
        return entry.get(self.lang, entry["vi"]).format(*args, **fields)

    def number(self, value: float, decimals: int = 0) -> str:
        """A number in this language's format (Vietnamese: ``1.234,5``; English: ``1,234.5``)."""
        text = format_number_vi(value, decimals)
        if self.lang == "vi":
            return text
        return text.translate(str.maketrans({".": ",", ",": "."}))

    def duration(self, seconds: float) -> str:
        """Elapsed time: ``1 phút 05 giây`` / ``1 min 05 s``."""
        m, s = divmod(int(seconds), 60)
        return self("time.minutes", m=m, s=s) if m else self("time.seconds", s=s)

    def problem_text(self, text: str) -> str:
        """A reader's text in this language when it is a known one."""
        return translate_problem_text(text) if self.lang == "vi" else text

    def problem(self, p: Problem, rows: list[int] | None = None) -> str:
        """One problem in this language: where, what, what was expected and found.

        ``rows``: the rows of a group of problems with one message (shown as a count and
        the first and last rows).
        """
        where = [self("problem.file", p.file)]
        if p.sheet is not None:
            where.append(self("problem.sheet", p.sheet))
        if rows:
            span = self.number(rows[0]) if len(rows) == 1 else f"{self.number(rows[0])}–{self.number(rows[-1])}"
            where.append(self("problem.rows", n=self.number(len(rows)), rows=span))
        elif p.row is not None:
            where.append(self("problem.row", p.row))
        if p.column is not None:
            where.append(self("problem.column", p.column))
        text = f"{', '.join(where)}: {self.problem_text(p.message)}"
        if p.severity == "warning":
            text = f"{self('problem.warning')}: {text}"
        if p.expected is not None:
            text += "; " + self("problem.expected", self.problem_text(p.expected))
        if p.found is not None and not rows:
            text += "; " + self("problem.found", self.problem_text(p.found))
        return text

    def problems(self, problems: Iterable[Problem], limit: int = MAX_ITEMS) -> list[str]:
        """Problems as lines to list: one message repeated down a column is one line, at most ``limit`` lines."""
        groups: dict[tuple, list[Problem]] = {}
        for p in problems:
            key = (p.file, p.sheet, p.column, p.message, p.expected, p.severity)
            groups.setdefault(key, []).append(p)
        lines = []
        for found in groups.values():
            rows = sorted(p.row for p in found if p.row is not None)
            if len(found) >= GROUP_FROM and len(rows) == len(found):
                lines.append(self.problem(found[0], rows))
            else:
                lines += [self.problem(p) for p in found]
        if len(lines) > limit:
            return [*lines[:limit], self("problem.more", n=self.number(len(lines) - limit))]
        return lines


def vietnam_time(moment: datetime | None = None) -> datetime:
    """``moment`` (default: now) in Vietnam time, UTC+7."""
    return (moment or datetime.now(VIETNAM_TIME)).astimezone(VIETNAM_TIME)


def folder_name(label: str, limit: int = 64) -> str:
    """A safe results-folder name for a result named ``label`` (diacritics dropped, ``đ`` → ``d``).

    Letters and digits are kept, every other run of characters becomes ``_``; the name
    never starts with a dot, never is empty when ``label`` holds a letter or digit.
    """
    import unicodedata

    text = unicodedata.normalize("NFD", label.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    text = re.sub(r"[^A-Za-z0-9.-]+", "_", unicodedata.normalize("NFC", text)).strip("_.-")
    return text[:limit].rstrip("_.-")
