"""Property tests for parsing single cells the way planners write them."""

from __future__ import annotations

import math
import re
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ntm_sim.data.io.values import BLANK, MET_WORDS, NOT_MET_WORDS, parse_met, parse_number
from ntm_sim.text import format_number_vi, norm_key

AMOUNTS = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
SPACES = st.text(alphabet=" \t\u00a0", max_size=3)


def written(x: float, decimals: int) -> float:
    """The number a text with ``decimals`` digits after the point stands for."""
    return float(f"{x:.{decimals}f}")


# ----- parse_number ----------------------------------------------------------------------


@given(AMOUNTS, st.integers(min_value=0, max_value=4))
def test_vietnamese_format_round_trips(x: float, decimals: int) -> None:
    # "1.234.567,5": dots group thousands, the comma is the decimal mark
    assert parse_number(format_number_vi(x, decimals)) == written(x, decimals)


@given(AMOUNTS, st.integers(min_value=1, max_value=2))
def test_english_format_with_decimals_is_read(x: float, decimals: int) -> None:
    # "1,234,567.5"; with a decimal part the comma cannot be a Vietnamese decimal mark
    assert parse_number(f"{x:,.{decimals}f}") == written(x, decimals)


@given(st.integers(min_value=1_000_000, max_value=10**12))
def test_english_thousands_with_two_groups_are_read(n: int) -> None:
    assert parse_number(f"{n:,}") == n


@given(AMOUNTS, st.integers(min_value=0, max_value=6))
def test_plain_numbers_are_read(x: float, decimals: int) -> None:
    text = f"{x:.{decimals}f}"
    assume(not re.fullmatch(r"-?[1-9]\d{0,2}\.\d{3}", text))  # "1.538" is Vietnamese 1538, see below
    assert parse_number(text) == written(x, decimals)


@given(st.integers(min_value=-(10**12), max_value=10**12), SPACES, SPACES)
def test_integers_round_trip_with_spaces(n: int, before: str, after: str) -> None:
    assert parse_number(before + format_number_vi(n) + after) == n
    assert parse_number(before + str(n) + after) == n


@given(st.one_of(st.integers(min_value=-(10**15), max_value=10**15), AMOUNTS))
def test_numeric_cells_are_taken_as_they_are(x: float) -> None:
    assert parse_number(x) == float(x)


@pytest.mark.parametrize(("text", "value"), [
    ("1.538", 1538.0),  # a dot before three digits groups thousands in Vietnamese
    ("0.500", 0.5),  # ...but nobody groups thousands after a leading zero
    ("-0.250", -0.25),
    ("1.538,5", 1538.5),
    ("1,538.5", 1538.5),
    ("1,5", 1.5),
    ("1,538", 1.538),  # Vietnamese decimal comma wins over an English thousands comma
    ("12 345", 12345.0),
    ("-2.500", -2500.0),
])
def test_ambiguous_separators_follow_vietnamese_usage(text: str, value: float) -> None:
    assert parse_number(text) == value


@given(SPACES)
def test_blank_and_dash_cells_are_blank(spaces: str) -> None:
    assert parse_number(spaces) is BLANK
    assert parse_number(None) is BLANK
    assert parse_number(math.nan) is BLANK
    assert parse_number(format_number_vi(math.nan)) is BLANK  # the "–" written for no value


@given(st.text(alphabet="abcđêươăâôxyzĐẠT?", min_size=1, max_size=12), st.sampled_from(["", "1", "12"]))
def test_text_is_not_a_number(word: str, digits: str) -> None:
    assert parse_number(digits + word) is None
    assert parse_number(True) is None


# ----- parse_met -------------------------------------------------------------------------


@st.composite
def spelled(draw: st.DrawFn, word: str) -> str:
    """``word`` as people type it: any letter case, extra spaces, NFC or NFD."""
    chars = [draw(st.sampled_from([c.lower(), c.upper()])) for c in word]
    text = "".join(chars)
    text = text.replace(" ", draw(st.sampled_from([" ", "  ", "\u00a0", " \t"])))
    text = unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD"])), text)
    return draw(SPACES) + text + draw(SPACES)


@given(spelled("Đạt"))
def test_dat_in_any_spelling_is_met(text: str) -> None:
    assert parse_met(text) is True


@given(spelled("Chưa đạt"))
def test_chua_dat_in_any_spelling_is_not_met(text: str) -> None:
    assert parse_met(text) is False


@given(st.sampled_from(sorted(MET_WORDS)), st.sampled_from(sorted(NOT_MET_WORDS)), st.data())
def test_every_known_word_parses_in_any_case(met: str, not_met: str, data: st.DataObject) -> None:
    assert parse_met(data.draw(spelled(met))) is True
    assert parse_met(data.draw(spelled(not_met))) is False


@given(st.text(min_size=1, max_size=10))
def test_other_text_is_unrecognised_not_guessed(text: str) -> None:
    key = norm_key(text)
    assume(key and key not in MET_WORDS and key not in NOT_MET_WORDS)
    assert parse_met(text) is None


@given(SPACES)
def test_blank_status_is_blank(spaces: str) -> None:
    assert parse_met(spaces) is BLANK
    assert parse_met(None) is BLANK


@pytest.mark.parametrize(("value", "met"), [(1, True), (0, False), (1.0, True), (True, True), (False, False),
                                            (2, None), (0.5, None), ("Dat?", None), ("có lẽ", None)])
def test_numbers_and_near_misses(value: object, met: object) -> None:
    assert parse_met(value) is met
