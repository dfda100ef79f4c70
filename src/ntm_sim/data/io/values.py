"""Parsing single cell values the way planners write them."""

from __future__ import annotations

import math
import re
from datetime import datetime

from ntm_sim.messages import Text
from ntm_sim.text import norm_key

MET_WORDS = {"đạt", "đ", "x", "✓", "✔", "v", "1", "có", "yes", "y", "true", "met", "dat"}
NOT_MET_WORDS = {
    "chưa đạt", "chưa", "cđ", "không đạt", "kđ", "0", "không", "no", "n", "false", "-", "–",
    "not met", "chua dat", "khong dat",
}
MARK_WORDS = {"x", "✓", "✔", "v"}
EXPECTED_MET = Text("status.expected_met")
#: A status cell left for the planner (a dataset carried across the 2025 reform, ``ntm_sim.data.carry``).
NEEDS_INPUT = "Cần nhập"


class Blank:
    """Marker for an empty cell."""


BLANK = Blank()


def is_blank(value: object) -> bool:
    """Whether a cell is empty (None, NaN or only spaces)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_met(value: object) -> bool | Blank | None:
    """Parse a criterion status cell.

    Returns
    -------
    True, False, BLANK or None
        None when the value is not a status word (the caller reports it).
    """
    if is_blank(value):
        return BLANK
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if value == 1:
            return True
        if value == 0:
            return False
        return None
    key = norm_key(value)
    if key in MET_WORDS:
        return True
    if key in NOT_MET_WORDS:
        return False
    return None


def is_mark(value: object) -> bool:
    """Whether a cell holds a check mark such as ``x``."""
    return isinstance(value, str) and norm_key(value) in MARK_WORDS


_NUM_VI = re.compile(r"^-?[1-9]\d{0,2}(\.\d{3})+(,\d+)?$")  # 1.234.567,5 (never "0.500")
_NUM_VI_DEC = re.compile(r"^-?\d+,\d+$")  # 1234,5
_NUM_EN = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,234,567.5
_NUM_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")


def parse_number(value: object) -> float | Blank | None:
    """Parse a money or count cell, accepting Vietnamese and English separators.

    ``"1.538"`` is read as one thousand five hundred thirty-eight (Vietnamese
    thousands separator), ``"1.538,5"`` and ``"1,538.5"`` as 1538.5.

    Returns
    -------
    float, BLANK or None
        None when the text is not a number.
    """
    if is_blank(value):
        return BLANK
    if isinstance(value, bool) or isinstance(value, datetime):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace(" ", "").replace("\u00a0", "")
    if text in {"-", "–"}:
        return BLANK
    if _NUM_VI.match(text):
        return float(text.replace(".", "").replace(",", "."))
    if _NUM_VI_DEC.match(text):
        return float(text.replace(",", "."))
    if _NUM_EN.match(text):
        return float(text.replace(",", ""))
    if _NUM_PLAIN.match(text):
        return float(text)
    return None


def parse_flag(value: object) -> bool | None:
    """Parse a yes/no column (ĐBKK, recognised...): blank means no."""
    if is_blank(value):
        return False
    met = parse_met(value)
    if isinstance(met, bool):
        return met
    return None


DESCRIBE_MAX_CHARS = 80


def describe(value: object) -> str:
    """Short text of a cell value for messages (long texts cut to 80 characters)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    # a hostile or pasted cell may hold 32,767 characters; a message needs the start
    return text if len(text) <= DESCRIBE_MAX_CHARS else text[:DESCRIBE_MAX_CHARS - 1] + "…"
