"""One catalogue of the texts the tool shows, in Vietnamese (default) and English.

Two kinds of text live in ``data/messages.yaml``:

``messages``
    The dashboard's texts, looked up by key and filled with :meth:`str.format` fields
    (``Catalogue("en")("run.done", name=…)``).
``problems``
    What is wrong with a planner's input (and a refused output, option or run): each
    :class:`~ntm_sim.errors.Problem` carries a :class:`Text` (a key and its fields) as its
    message, and as what was expected and found when those are words rather than data.
    A ``Text`` is a ``str`` whose value is the English text, so logs, ``str(problem)`` and
    code that reads ``problem.message`` see English; :meth:`Text.render` gives it in a
    language, and for the page (:class:`Catalogue`) in its page variant (the page has no
    ``--force`` nor ``--units``: an entry may say what to do there instead, under ``page``).

Both languages hold the same keys with the same fields (a test checks), a key missing
altogether is an error, and a field that is text from a file is cut to a readable length
(:data:`MAX_FIELD_CHARS`). The command line shows problems with :func:`problem_line` in
the language of ``--lang`` or ``NTM_SIM_LANG`` (Vietnamese by default), the page with
:meth:`Catalogue.problem`. Times are shown in Vietnam time (UTC+7, no daylight saving).
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Literal, Protocol

from ntm_sim.text import format_number_vi, shipped_yaml


class _Problem(Protocol):
    """What the catalogue reads of a problem to place and word it (:class:`ntm_sim.errors.Problem` is one).

    A protocol, so that the catalogue names no module above it: :mod:`ntm_sim.errors` builds on this one.
    """

    @property
    def file(self) -> str: ...
    @property
    def message(self) -> object: ...
    @property
    def sheet(self) -> str | None: ...
    @property
    def row(self) -> int | None: ...
    @property
    def column(self) -> str | None: ...
    @property
    def expected(self) -> object: ...
    @property
    def found(self) -> object: ...
    @property
    def severity(self) -> str: ...


Lang = Literal["vi", "en"]
LANGS: dict[str, str] = {"vi": "Tiếng Việt", "en": "English"}
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
MAX_ITEMS = 30  # problems listed on a page; the rest counted (a blank template has thousands)
GROUP_FROM = 4  # this many problems with one message in one column are shown as one line
#: Text from a file (a name, a cell, a path) is cut to this many characters in a message: a
#: hostile or pasted cell may hold 100,000, and a message needs the start
MAX_FIELD_CHARS = 200
#: Where a problem is (file, sheet, column) and what was found: cut to this many characters
MAX_PLACE_CHARS = 160
LANG_ENV = "NTM_SIM_LANG"

_CATALOGUE = shipped_yaml(resources.files("ntm_sim").joinpath("data/messages.yaml").read_text(encoding="utf-8"))
#: the page's texts by key, then language (data/messages.yaml)
MESSAGES: dict[str, dict[str, str]] = _CATALOGUE["messages"]
#: the problems' texts by key: ``en``, ``vi`` and, where the page differs, ``page: {en, vi}``
PROBLEMS: dict[str, dict] = _CATALOGUE["problems"]


def shorten(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """``text`` cut to ``limit`` characters (``…`` in place of the rest)."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def shorten_path(text: str, limit: int = MAX_PLACE_CHARS) -> str:
    """A path cut at its start, so that the file's own name stays (``…/kết quả/x.xlsx``)."""
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


class _Formatter(string.Formatter):
    """:meth:`str.format` with numbers in a language's format (``1.234,5`` in Vietnamese)."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def format_field(self, value: object, format_spec: str) -> str:
        text = super().format_field(value, format_spec)
        if self.lang == "vi" and isinstance(value, int | float) and not isinstance(value, bool):
            text = text.translate(str.maketrans({",": ".", ".": ","}))
        return text


_FORMATTERS = {"vi": _Formatter("vi"), "en": _Formatter("en")}


def _template(key: str, lang: Lang, page: bool) -> str:
    entry = PROBLEMS[key]
    if page and "page" in entry:
        return entry["page"].get(lang, entry["page"]["vi"])
    return entry.get(lang, entry["vi"])


def _field(value: object, lang: Lang, page: bool) -> object:
    if isinstance(value, Text):
        return value.render(lang, page=page)
    if isinstance(value, str):
        return shorten(value)
    if isinstance(value, list | tuple):
        return shorten(", ".join(str(_field(v, lang, page)) for v in value))
    return value


def _render(key: str, fields: Mapping[str, object], lang: Lang, page: bool) -> str:
    values = {name: _field(v, lang, page) for name, v in fields.items()}
    return _FORMATTERS[lang].vformat(_template(key, lang, page), (), values)


class Text(str):
    """A text of the problem catalogue: its key and fields; as a ``str``, the English text.

    Parameters
    ----------
    key
        A key of ``problems`` in ``data/messages.yaml``.
    **fields
        The template's fields: numbers, text from files (cut when shown), other
        :class:`Text` (rendered in the same language), or lists of these.

    Examples
    --------
    >>> t = Text("io.file_not_found")
    >>> str(t), t.render("vi")
    ('file not found', 'không tìm thấy tệp')
    """

    key: str
    fields: dict[str, object]

    def __new__(cls, key: str, /, **fields: object) -> Text:
        """The text of ``key`` with ``fields`` (a key missing from the catalogue is a bug: KeyError)."""
        if key not in PROBLEMS:
            raise KeyError(f"no problem text {key!r} in the message catalogue")
        text = super().__new__(cls, _render(key, fields, "en", False))
        text.key = key
        text.fields = dict(fields)
        return text

    def __reduce__(self) -> tuple[object, tuple[str, dict[str, object]]]:
        """Pickled (and deep-copied) as its key and fields."""
        return _rebuild, (self.key, self.fields)

    def render(self, lang: str = "vi", *, page: bool = False) -> str:
        """The text in ``lang`` (``vi`` or ``en``), in its page variant if ``page``."""
        return _render(self.key, self.fields, "en" if lang == "en" else "vi", page)

    def to_json(self) -> dict[str, object]:
        """``{"key": …, "fields": …}``, fields that are texts as such dicts too (see :func:`from_json`)."""
        return {"key": self.key, "fields": {k: _to_json(v) for k, v in self.fields.items()}}


def _rebuild(key: str, fields: dict[str, object]) -> Text:
    return Text(key, **fields)


def _to_json(value: object) -> object:
    if isinstance(value, Text):
        return value.to_json()
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    return value


def joined(items: list[str], word: Literal["and", "or"] = "and") -> Text:
    """``A, B and C`` (``A, B hoặc C``): a list in a sentence, in the reader's language."""
    text = Text("list.one", item=items[0])
    for i, item in enumerate(items[1:], start=2):
        text = Text(f"list.{word}" if i == len(items) else "list.comma", first=text, next=item)
    return text


def from_json(value: object) -> object:
    """A value :meth:`Text.to_json` wrote (a dict with ``key``) back as a :class:`Text`; others as they are."""
    if isinstance(value, dict) and set(value) == {"key", "fields"}:
        return Text(str(value["key"]), **{k: from_json(v) for k, v in dict(value["fields"]).items()})
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def render(value: object, lang: str = "vi", *, page: bool = False) -> str:
    """A problem's message, expected or found in ``lang``: a :class:`Text` rendered, other text as it is."""
    if isinstance(value, Text):
        return value.render(lang, page=page)
    return str(value)


# ----- pydantic's errors (scenarios, result files) in the catalogue ----------------------------

def pydantic_text(err: Mapping[str, object]) -> Text:
    """One error of a pydantic validation as a :class:`Text` (English: pydantic's own words).

    A validator of ours raises ``ValueError(Text(...))``: that text is used. Error types
    the catalogue does not hold keep pydantic's words in both languages (named as such).
    """
    kind = str(err.get("type", ""))
    ctx = dict(err.get("ctx") or {})  # type: ignore[call-overload]
    msg = str(err.get("msg", ""))
    error = ctx.pop("error", None)
    if isinstance(error, ValueError) and error.args and isinstance(error.args[0], Text):
        return Text("pydantic.value_error", msg=msg, error=error.args[0])
    key = f"pydantic.{kind}"
    if key not in PROBLEMS:
        return Text("pydantic.other", msg=msg)
    fields = {k: (v if isinstance(v, int | float) and not isinstance(v, bool) else str(v)) for k, v in ctx.items()}
    if "expected" in fields:  # literal_error: "'x' or 'y'"
        fields["expected"] = Text("text.in_language", en=str(fields["expected"]),
                                  vi=str(fields["expected"]).replace("' or '", "' hoặc '"))
    return Text(key, msg=msg, **fields)


# ----- the command line: one line per problem -------------------------------------------------

_cli_lang: list[Lang | None] = [None]


def set_cli_language(lang: str | None) -> Lang:
    """Set the command line's language (``--lang``); None: ``NTM_SIM_LANG``, else Vietnamese.

    Raises
    ------
    ValueError
        For a language other than ``vi`` and ``en``.
    """
    chosen = lang if lang is not None else (os.environ.get(LANG_ENV) or "vi")
    chosen = chosen.strip().lower()
    if chosen not in LANGS:
        raise ValueError(chosen)
    _cli_lang[0] = chosen  # type: ignore[assignment]
    return chosen  # type: ignore[return-value]


def cli_language() -> Lang:
    """The command line's language: the one set by ``--lang``, else ``NTM_SIM_LANG``, else Vietnamese."""
    if _cli_lang[0] is not None:
        return _cli_lang[0]
    env = (os.environ.get(LANG_ENV) or "").strip().lower()
    return "en" if env == "en" else "vi"


def cli_text(key: str, lang: str | None = None, **fields: object) -> str:
    """A text of the command line (``problems`` key ``cli.*``) in ``lang`` (default: :func:`cli_language`)."""
    return Text(key, **fields).render(lang or cli_language())


def problem_line(p: _Problem, lang: str = "vi") -> str:
    """One problem as the command line shows it: ``file, sheet 'S', row R, column C: what; expected …, found '…'``.

    In English this is ``str(problem)``; text from files is cut to a readable length.
    """
    lang = "en" if lang == "en" else "vi"
    parts = [shorten_path(str(p.file))]
    if p.sheet is not None:
        parts.append(cli_text("cli.sheet", lang, sheet=shorten(str(p.sheet), MAX_PLACE_CHARS)))
    if p.row is not None:
        parts.append(cli_text("cli.row", lang, row=p.row))
    if p.column is not None:
        parts.append(cli_text("cli.column", lang, column=shorten(str(p.column), MAX_PLACE_CHARS)))
    text = f"{', '.join(parts)}: {render(p.message, lang)}"
    if p.expected is not None:
        text += "; " + cli_text("cli.expected", lang, expected=render(p.expected, lang))
    if p.found is not None:
        found = shorten(render(p.found, lang), MAX_PLACE_CHARS)
        text += ", " + cli_text("cli.found", lang, found=repr(found))
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

    def problem_text(self, text: object) -> str:
        """A problem's message, expected or found, as the page shows it in this language."""
        return render(text, self.lang, page=True)

    def problem(self, p: _Problem, rows: list[int] | None = None) -> str:
        """One problem in this language, as the page shows it: where, what, what was expected and found.

        ``rows``: the rows of a group of problems with one message (shown as a count and
        the first and last rows).
        """
        where = [self("problem.file", shorten_path(str(p.file)))]
        if p.sheet is not None:
            where.append(self("problem.sheet", shorten(str(p.sheet), MAX_PLACE_CHARS)))
        if rows:
            span = self.number(rows[0]) if len(rows) == 1 else f"{self.number(rows[0])}–{self.number(rows[-1])}"
            where.append(self("problem.rows", n=self.number(len(rows)), rows=span))
        elif p.row is not None:
            where.append(self("problem.row", p.row))
        if p.column is not None:
            where.append(self("problem.column", shorten(str(p.column), MAX_PLACE_CHARS)))
        text = f"{', '.join(where)}: {self.problem_text(p.message)}"
        if p.severity == "warning":
            text = f"{self('problem.warning')}: {text}"
        if p.expected is not None:
            text += "; " + self("problem.expected", self.problem_text(p.expected))
        if p.found is not None and not rows:
            text += "; " + self("problem.found", shorten(self.problem_text(p.found), MAX_PLACE_CHARS))
        return text

    def problems(self, problems: Iterable[_Problem], limit: int = MAX_ITEMS) -> list[str]:
        """Problems as lines to list: one message repeated down a column is one line, at most ``limit`` lines."""
        groups: dict[tuple, list[_Problem]] = {}
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
