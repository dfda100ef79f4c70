"""The dataset folder format: tidy CSV files plus ``dataset.yaml``.

Used for the bundled Lào Cai data and for exports. Files:

``dataset.yaml``
    name, title, criteria_set, demo, demo_label, source, notes
``communes.csv``
    one row per commune (code, name, district, traits, tier and village costs)
``criteria_status.csv``
    tidy long status: commune_code, criterion, met, cost_mvnd, cost_estimated
``districts.csv``, ``sources.csv``, ``envelopes.csv``
    district units; funding sources and their eligibility rule; money by source and year
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

from ntm_sim.data.criteria import CriteriaSet, available_sets, load_criteria_set
from ntm_sim.data.dataset import (
    COMMUNE_COLUMNS,
    DISTRICT_COLUMNS,
    OPTIONAL_COMMUNE_COLUMNS,
    SOURCE_COLUMNS,
    Dataset,
    DatasetMeta,
    eligibility_from_rule,
    make_dataset,
)
from ntm_sim.data.io import schema
from ntm_sim.data.io.longcsv import read_long_grid
from ntm_sim.data.io.tables import Column, Grid, read_csv_grid, read_table
from ntm_sim.errors import InputError, Problem, ProblemLog, Text

FILES = ("dataset.yaml", "communes.csv", "criteria_status.csv", "districts.csv", "sources.csv",
         "envelopes.csv")


def read_folder(folder: Path, display: str | None = None) -> Dataset:
    """Read a dataset folder.

    Raises
    ------
    InputError
        With every problem found, naming the file, row and column.
    """
    display = display or folder.name
    _check_files(folder, display)
    meta, criteria = _read_description(folder, display)

    # every table is read before raising, so that one run lists every problem
    problems: list[Problem] = []
    communes, found = _read_communes(folder, display, criteria)
    problems += found
    districts, found = _read_table_file(folder, display, "districts.csv", schema.DISTRICT_TABLE, "district_code")
    problems += found
    sources, found = _read_sources(folder, display, criteria)
    problems += found
    env, found = _read_envelopes(folder, display, set(sources.get("source_id", [])))
    problems += found
    # a communes.csv without codes is reported already; do not flag every status row too
    known = set(communes["commune_code"]) if "commune_code" in communes.columns else None
    status, cost, estimated, long_problems = read_long_grid(
        read_csv_grid(folder / "criteria_status.csv", f"{display}/criteria_status.csv"),
        criteria, known)
    problems += long_problems
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)

    envelopes = env.pivot_table(index="source_id", columns="year", values="amount_mvnd",
                                aggfunc="sum").reindex(sources["source_id"])
    ds = make_dataset(
        criteria,
        communes.drop(columns="_row").set_index("commune_code"),
        status,
        cost,
        cost_estimated=estimated,
        districts=districts.drop(columns="_row").set_index("district_code"),
        sources=sources.drop(columns="_row").set_index("source_id"),
        envelopes=envelopes,
        meta=meta,
        file=display,
    )
    return ds.with_(warnings=tuple(p for p in problems if p.severity == "warning") + ds.warnings)


def _check_files(folder: Path, display: str) -> None:
    """Raise :class:`InputError` naming every file of ``FILES`` the folder lacks."""
    problems: list[Problem] = []
    for name in FILES:
        if not (folder / name).exists():
            problems.append(Problem(f"{display}/{name}", Text("folder.missing"),
                                    expected=Text("folder.missing.expected", files=", ".join(FILES))))
    if problems:
        raise InputError(problems)


def _read_description(folder: Path, display: str) -> tuple[DatasetMeta, CriteriaSet]:
    """The folder's ``dataset.yaml`` and the criteria set it names.

    Raises
    ------
    InputError
        If the file is not a valid description or names an unknown criteria set (with
        its line).
    """
    from ntm_sim.data.io.files import MAX_YAML_BYTES, load_yaml, read_text

    meta_text = read_text(folder / "dataset.yaml", f"{display}/dataset.yaml", MAX_YAML_BYTES)
    raw_meta = load_yaml(meta_text, f"{display}/dataset.yaml") or {}
    try:
        meta = DatasetMeta(**raw_meta)  # type: ignore[arg-type]
    except TypeError as exc:
        raise InputError([Problem(f"{display}/dataset.yaml", Text("folder.description", error=str(exc)))]) from None
    try:
        criteria = load_criteria_set(meta.criteria_set)
    except KeyError:
        line = next((n for n, text in enumerate(meta_text.splitlines(), start=1)
                     if text.startswith("criteria_set:")), None)
        raise InputError([Problem(f"{display}/dataset.yaml", Text("folder.criteria_set", set=repr(meta.criteria_set)),
                                  row=line, column="criteria_set",
                                  expected=Text("expect.one_of", choices=", ".join(available_sets())))]) from None
    return meta, criteria


def _read_table_file(folder: Path, display: str, name: str, columns: Sequence[Column],
                     index: str) -> tuple[pd.DataFrame, list[Problem]]:
    """One CSV table of the folder (with a ``_row`` column) and the problems found in it."""
    grid = read_csv_grid(folder / name, f"{display}/{name}")
    log = grid.log()
    table, _, _ = read_table(grid, columns, log, index=index)
    return table, log.problems


def _read_communes(folder: Path, display: str, criteria: CriteriaSet) -> tuple[pd.DataFrame, list[Problem]]:
    """``communes.csv``, with every commune class checked against the criteria set."""
    grid = read_csv_grid(folder / "communes.csv", f"{display}/communes.csv")
    log = grid.log()
    communes, colmap, _ = read_table(grid, schema.COMMUNE_TABLE, log, index="commune_code")
    schema.check_commune_classes(communes, criteria, grid, colmap, log)
    return communes, log.problems


def _read_sources(folder: Path, display: str, criteria: CriteriaSet) -> tuple[pd.DataFrame, list[Problem]]:
    """``sources.csv``, with every eligibility rule checked against the criteria set."""
    grid = read_csv_grid(folder / "sources.csv", f"{display}/sources.csv")
    log = grid.log()
    sources, colmap, _ = read_table(grid, schema.SOURCE_TABLE, log, index="source_id")
    for _, r in sources.iterrows():
        try:
            eligibility_from_rule(criteria, str(r["eligible"]))
        except ValueError as exc:
            log.error(Text("sources.rule", reason=exc.args[0] if exc.args else str(exc)), row=int(r["_row"]),
                      column=grid.col_label(colmap["eligible"]), expected=schema.EXPECTED_RULE)
    return sources, log.problems


def _read_envelopes(folder: Path, display: str, source_ids: set[str]) -> tuple[pd.DataFrame, list[Problem]]:
    """``envelopes.csv`` (long: source, year, amount), checked against the sources read."""
    grid = read_csv_grid(folder / "envelopes.csv", f"{display}/envelopes.csv")
    log = grid.log()
    env, colmap, _ = read_table(grid, schema.ENVELOPE_TABLE, log)
    _check_envelopes(env, source_ids, grid, colmap, log)
    return env, log.problems


def _check_envelopes(env: pd.DataFrame, sources: set[str], grid: Grid, colmap: dict[str, int],
                     log: ProblemLog) -> None:
    """Report envelope rows that would otherwise be dropped or added up silently."""
    first: dict[tuple[str, int], int] = {}
    for _, r in env.iterrows():
        row, sid, year = int(r["_row"]), r["source_id"], r["year"]
        if not sid:
            continue  # reported as an empty required cell
        if sources and sid not in sources:
            log.error(Text("folder.source_unknown", source=repr(sid)), row=row,
                      column=grid.col_label(colmap["source_id"]))
        elif year is not None and not pd.isna(year):
            key = (sid, int(year))
            if key in first:
                log.error(Text("folder.envelope_twice", source=sid, year=str(int(year)), first=first[key]), row=row,
                          column=grid.col_label(colmap["year"]))
            else:
                first[key] = row


def write_folder(ds: Dataset, folder: Path, *, force: bool = False) -> None:
    """Write a dataset folder atomically (see :func:`ntm_sim.storage.atomic_folder`).

    An existing folder is replaced only if ntm-sim wrote it and ``force`` is set.
    """
    from ntm_sim.storage import atomic_folder

    with atomic_folder(folder, kind="dataset", force=force) as tmp:
        meta = {k: getattr(ds.meta, k) for k in ("name", "title", "criteria_set", "demo",
                                                 "demo_label", "source", "notes")}
        if ds.meta.reviews_from is not None:
            meta["reviews_from"] = ds.meta.reviews_from
        (tmp / "dataset.yaml").write_text(
            yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8")
        optional = [c for c in OPTIONAL_COMMUNE_COLUMNS if c in ds.communes.columns]
        communes = ds.communes[list(COMMUNE_COLUMNS) + optional].reset_index()
        _to_csv(communes, tmp / "communes.csv")
        _to_csv(ds.districts[list(DISTRICT_COLUMNS)].reset_index(), tmp / "districts.csv")
        _to_csv(ds.sources[list(SOURCE_COLUMNS)].reset_index(), tmp / "sources.csv")
        env = ds.envelopes.stack().rename("amount_mvnd").reset_index()
        env.columns = ["source_id", "year", "amount_mvnd"]
        _to_csv(env, tmp / "envelopes.csv")
        _to_csv(long_status(ds), tmp / "criteria_status.csv")


def long_status(ds: Dataset) -> pd.DataFrame:
    """Return the status and costs in tidy long form (one row per commune × criterion)."""
    status = ds.status.stack().rename("met")
    cost = ds.cost.stack(future_stack=True).rename("cost_mvnd")
    est = ds.cost_estimated.stack().rename("cost_estimated")
    long = pd.concat([status, cost, est], axis=1).reset_index()
    long.columns = ["commune_code", "criterion", "met", "cost_mvnd", "cost_estimated"]
    long["met"] = long["met"].map({True: "Đạt", False: "Chưa đạt"})
    long["cost_estimated"] = long["cost_estimated"].map({True: "x", False: ""})
    long.loc[long["met"] == "Đạt", "cost_estimated"] = ""
    names = ds.communes[["commune_name", "district_code", "district_name"]]
    long = long.join(names, on="commune_code")
    return long[["commune_code", "commune_name", "district_code", "district_name", "criterion",
                 "met", "cost_mvnd", "cost_estimated"]]


def _to_csv(frame: pd.DataFrame, path: Path) -> None:
    from ntm_sim.data.io.cells import write_csv  # imported here: only this function of the module uses it

    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == bool:
            frame[col] = frame[col].map({True: "x", False: ""})
    # names and notes from the planner's data must not open as formulas (OWASP prefix)
    write_csv(frame, path, index=False, lineterminator="\n", float_format="%.10g", encoding="utf-8")
