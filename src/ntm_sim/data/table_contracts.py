"""The tables of a results folder as contracts (pandera): checked where they are written and where they are read.

The JSON files have theirs in :mod:`ntm_sim.model.contracts`. A table that breaks its contract is an
:class:`~ntm_sim.errors.InputError` naming the file, the row as a text editor shows it, the column and
what was expected, never a failure deep inside a chart.

pandera is imported here only: the CLI and the workers do not pay for it unless a table is checked.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from ntm_sim.errors import InputError, Problem, Text

#: most failures listed per file (the rest are counted)
MAX_LISTED = 20


@cache
def _schemas() -> dict[str, object]:
    import pandera.pandas as pa

    share = pa.Check.in_range(0.0, 1.0)
    money = pa.Check.ge(0.0)
    year = pa.Check.in_range(1900, 2200)
    text = {"nullable": False}
    communes = pa.DataFrameSchema({
        "commune_code": pa.Column(str, unique=True, **text),
        "commune_name": pa.Column(str, **text),
        "district": pa.Column(str, nullable=True),  # a province without districts leaves it empty
        "criteria_met_baseline": pa.Column(int, pa.Check.ge(0)),
        "group": pa.Column(str, **text),
        "especially_difficult": pa.Column(bool),
        "cost_to_complete_mvnd": pa.Column(float, money),
        "year_ntm": pa.Column("Int64", year, nullable=True),  # empty: not NTM by the end
        "year_lost": pa.Column("Int64", year, nullable=True),  # empty: not revoked on paper
        "year_meets_all": pa.Column("Int64", year, nullable=True),
        "recognised_start": pa.Column(bool),
        "held_by_rule": pa.Column(bool),
        "criteria_met_end": pa.Column(int, pa.Check.ge(0)),
        "funded_mvnd": pa.Column(float, money),
        "missing_criteria": pa.Column(str, nullable=True),
        "missing_mvnd": pa.Column(float, money),
        "rank": pa.Column(int, pa.Check.ge(1), unique=True),
        "planners_rule_year": pa.Column("Int64", year, nullable=True),
        "reason_vi": pa.Column(str, **text),
        "reason_en": pa.Column(str, **text),
    }, coerce=True, strict=True, ordered=True, name="communes.csv")
    chances = pa.DataFrameSchema({
        "plan": pa.Column(str, **text),
        "commune_code": pa.Column(str, **text),
        "commune_name": pa.Column(str, **text),
        "district": pa.Column(str, nullable=True),
        r"p_ntm_\d{4}": pa.Column(float, share, regex=True),
    }, coerce=True, strict=True, unique=["plan", "commune_code"], name="simulation/communes.csv")
    return {"communes": communes, "chances": chances}


def _problems(exc: Exception, path: Path | str) -> list[Problem]:
    """Pandera's failure cases as problems with their place (row 2 is the first below the header)."""
    cases = exc.failure_cases  # type: ignore[attr-defined]
    problems = []
    for case in cases.head(MAX_LISTED).itertuples(index=False):
        index = case.index
        row = int(index) + 2 if index is not None and not pd.isna(index) else None
        column = None if case.column is None or pd.isna(case.column) else str(case.column)
        found = None if case.failure_case is None or pd.isna(case.failure_case) else str(case.failure_case)
        problems.append(Problem(str(path), Text("contract.table"), row=row, column=column,
                                expected=str(case.check), found=found))
    if len(cases) > MAX_LISTED:
        problems.append(Problem(str(path), Text("contract.table_more", n=len(cases) - MAX_LISTED)))
    return problems


def check_table(frame: pd.DataFrame, kind: str, path: Path | str) -> pd.DataFrame:
    """``frame`` (read from or written to ``path``) checked against its contract, with its columns' types.

    Parameters
    ----------
    frame
        The table.
    kind
        ``"communes"`` (a solve's priorities) or ``"chances"`` (a simulation's chance per commune and year).
    path
        The file, for messages.

    Returns
    -------
    pandas.DataFrame
        The table with the contract's types (codes as text, years as nullable integers).

    Raises
    ------
    InputError
        Naming the file, the row, the column and the check that failed.
    """
    from pandera.errors import SchemaErrors

    try:
        return _schemas()[kind].validate(frame, lazy=True)  # type: ignore[attr-defined]
    except SchemaErrors as exc:
        raise InputError(_problems(exc, path)) from None
