"""Carry a 2021–2025 dataset across the 2025 reform: onto the new units and the 2026–2030 criteria.

Rules (each stated here, in the workbook written, and overridable by the planner):

* **Units.** Each old commune goes to the new unit the reform mapping gives
  (:func:`ntm_sim.data.reform.reform_mapping`); ``assign`` overrides or completes it (a
  commune of 2021 merged before 2025, such as Tà Chải, is not in the mapping and must
  be assigned). New wards (phường) are urban units, not NTM communes: they are left out.
  Old wards and townships are not NTM units either, so they do not count as parts.
* **Criteria.** A new criterion is met by an old commune when every old criterion its
  link lists was met (``all_of`` in ``data/criteria/mappings/qd318_to_qd51.yaml``);
  ``unknown`` links are left for the planner.
* **Merged communes: the weakest part.** A new commune meets a criterion only if every
  one of its old communes met it; one part that did not makes it not met; otherwise a
  part whose status is unknown, or an old commune missing from the dataset (for the
  merged Lào Cai: every Yên Bái commune when the dataset is the 2021 Lào Cai one),
  makes it unknown.
* **Costs.** The cost of an unmet new criterion is the sum of the old costs of the
  linked old criteria that its parts had not met (the dataset's own figures); where the
  status is unknown no cost is carried.

Every unknown cell is written as :data:`NEEDS_INPUT`; reading the workbook back
(``ntm-sim validate``) names each such cell, and a dataset cannot be solved until the
planner fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ntm_sim.data import admin_units
from ntm_sim.data.criteria import CriteriaMapping, CriteriaSet, load_criteria_mapping, load_criteria_set
from ntm_sim.data.dataset import Dataset, normalise_code
from ntm_sim.data.io import schema
from ntm_sim.data.io.excel_write import save_workbook_atomic, wide_sheet
from ntm_sim.data.io.values import NEEDS_INPUT
from ntm_sim.data.reform import reform_mapping
from ntm_sim.errors import InputError, Problem, Text


@dataclass(frozen=True)
class Carried:
    """A dataset carried onto new units and criteria; unknown cells wait for the planner.

    Parameters
    ----------
    criteria
        The new criteria set.
    communes
        New communes, indexed by new code: ``commune_name``, ``province_code``,
        ``province_name``, ``parts`` (old communes of the dataset), ``missing_parts``
        (old communes not in the dataset).
    status
        New communes × new criteria: True, False, or None (needs the planner's input).
    cost
        Carried cost of unmet criteria (million VND; NaN where none is carried).
    why
        The derivation of each status cell, in Vietnamese.
    unassigned
        Old communes of the dataset that map to no new unit (to be given with ``assign``).
    into_wards
        Old communes of the dataset that became part of a ward (urban: left out).
    """

    criteria: CriteriaSet
    communes: pd.DataFrame
    status: pd.DataFrame
    cost: pd.DataFrame
    why: pd.DataFrame
    unassigned: tuple[str, ...]
    into_wards: tuple[str, ...] = ()

    def needs_input(self) -> list[tuple[str, str]]:
        """(commune code, criterion) of every cell the planner must fill in."""
        cells = self.status.isna().to_numpy()
        return [(self.status.index[i], self.status.columns[j]) for i, j in zip(*np.nonzero(cells), strict=True)]


def _old_values(ds: Dataset, mapping: CriteriaMapping, criteria: CriteriaSet) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per old commune and new criterion: met (True/False/None) and the cost of the unmet linked criteria."""
    met = pd.DataFrame(None, index=ds.status.index, columns=criteria.ids, dtype=object)
    cost = pd.DataFrame(np.nan, index=ds.status.index, columns=criteria.ids)
    for k in criteria.ids:
        link = mapping.links[k]
        if link.rule == "unknown":
            continue
        old = ds.status[list(link.old)]
        met[k] = old.all(axis=1).astype(object)
        cost[k] = ds.cost[list(link.old)].where(~old).sum(axis=1, min_count=1).where(~met[k].astype(bool))
    return met, cost


def _targets(ds: Dataset, new_province: str, assign: dict[str, str]) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """The reform mapping of the new province, the new unit of each old commune of the dataset, and the unassigned."""
    table = reform_mapping(new_province)
    new_units = admin_units.national_units("2025")
    target = dict(zip(table["old_commune_code"], table["new_commune_code"], strict=True))
    bad = [Problem("--assign", Text("carry.new_unit", unit=new, province=str(new_province)),
                   found=f"{old}={new}") for old, new in assign.items()
           if new not in set(table["new_commune_code"])]
    if bad:
        raise InputError(bad)
    target.update(assign)
    of_dataset = {c: target[c] for c in ds.communes.index if c in target}
    unassigned = [c for c in ds.communes.index if c not in target]
    rural = table[new_units.loc[table["new_commune_code"], "unit_type"].to_numpy() != "Phường"]
    old_units = admin_units.national_units("pre2025")
    old_rural = rural[old_units.loc[rural["old_commune_code"], "unit_type"].to_numpy() == "Xã"]
    return old_rural, of_dataset, unassigned


def carry_dataset(ds: Dataset, new_province: str = "Lào Cai", *, criteria_set: str = "qd51-2026-2030",
                  assign: dict[str, str] | None = None) -> Carried:
    """Carry a 2021–2025 dataset onto the units from 1 July 2025 and the 2026–2030 criteria.

    Parameters
    ----------
    ds
        The dataset (old communes, old criteria set).
    new_province
        The province from 1 July 2025 whose communes the dataset's communes became.
    criteria_set
        The new criteria set (a mapping from the dataset's set to it must be shipped).
    assign
        Old commune code → new commune code, overriding or completing the reform mapping.
    """
    criteria = load_criteria_set(criteria_set)
    mapping = load_criteria_mapping(ds.criteria.id, criteria_set)
    assign = {normalise_code(k): normalise_code(v) for k, v in (assign or {}).items()}
    old_rural, of_dataset, unassigned = _targets(ds, new_province, assign)
    met, cost = _old_values(ds, mapping, criteria)
    new_units = admin_units.national_units("2025")
    wards = set(new_units.index[new_units["unit_type"] == "Phường"])
    into_wards = tuple(c for c, n in of_dataset.items() if n in wards)
    codes = sorted(set(old_rural["new_commune_code"]) | (set(of_dataset.values()) - wards), key=int)
    rows, status, costs, why = [], {}, {}, {}
    for new in codes:
        parts = sorted(c for c, n in of_dataset.items() if n == new)
        missing = sorted(set(old_rural.loc[old_rural["new_commune_code"] == new, "old_commune_code"])
                         - set(ds.communes.index) - {c for c, n in assign.items() if n != new})
        unit = new_units.loc[new]
        rows.append({"commune_code": new, "commune_name": unit["commune_name"], "province_code":
                     unit["province_code"], "province_name": unit["province_name"],
                     "parts": "; ".join(parts), "missing_parts": "; ".join(missing)})
        status[new], costs[new], why[new] = _merge(met.loc[parts], cost.loc[parts], missing, mapping, criteria)
    communes = pd.DataFrame(rows).set_index("commune_code")
    frame = pd.DataFrame.from_dict(status, orient="index", columns=criteria.ids, dtype=object)
    return Carried(criteria, communes, frame, pd.DataFrame.from_dict(costs, orient="index", columns=criteria.ids),
                   pd.DataFrame.from_dict(why, orient="index", columns=criteria.ids), tuple(unassigned),
                   into_wards)


def _merge(met: pd.DataFrame, cost: pd.DataFrame, missing: list[str], mapping: CriteriaMapping,
           criteria: CriteriaSet) -> tuple[list[object], list[float], list[str]]:
    """One new commune's status, cost and derivation per criterion, by the weakest-part rule."""
    status, costs, why = [], [], []
    for k in criteria.ids:
        link = mapping.links[k]
        values = list(met[k])
        if link.rule == "unknown":
            status.append(None)
            costs.append(np.nan)
            why.append(f"không suy ra được: {link.note}")
        elif any(v is False for v in values):
            status.append(False)
            costs.append(float(cost[k].sum(min_count=1)))
            why.append(f"chưa đạt: ít nhất một xã cũ chưa đạt {', '.join(link.old)}")
        elif missing or not values:
            status.append(None)
            costs.append(np.nan)
            why.append(f"thiếu số liệu xã cũ {', '.join(missing)}" if missing else "không có xã cũ nào trong dữ liệu")
        else:
            status.append(True)
            costs.append(np.nan)
            why.append(f"đạt: mọi xã cũ đều đạt {', '.join(link.old)}")
    return status, costs, why


def build_carried_workbook(carried: Carried, ds: Dataset) -> Workbook:
    """The planners' workbook of a carried dataset: status, carried costs, and where each cell comes from."""
    crit = carried.criteria
    demo = ds.meta.demo_label if ds.meta.demo else None
    wb = Workbook()
    wb.active.title = schema.SHEET_STATUS
    communes = carried.communes.assign(district_code="", district_name="")
    text = carried.status.replace({True: "Đạt", False: "Chưa đạt"}).fillna(NEEDS_INPUT)
    title = (f"{carried.communes['province_name'].iloc[0]} {crit.period[0]}–{crit.period[1]}: chuyển từ "
             f"'{ds.meta.title or ds.meta.name}' ({ds.criteria.id}) – ô '{NEEDS_INPUT}' chờ cán bộ điền")
    wide_sheet(wb.active, None, crit, communes, title, lambda c, k: text.loc[c, k],
               lambda r, a, b: f'=COUNTIF({get_column_letter(a)}{r}:{get_column_letter(b)}{r},"Đạt")',
               money=False, demo_label=demo)
    cost = carried.cost
    wide_sheet(wb.create_sheet(schema.SHEET_COST), None, crit, communes,
               "NHU CẦU VỐN (triệu đồng) chuyển từ số liệu cũ – tổng vốn các tiêu chí cũ tương ứng chưa đạt",
               lambda c, k: None if np.isnan(cost.loc[c, k]) else float(cost.loc[c, k]),
               lambda r, a, b: f"=SUM({get_column_letter(a)}{r}:{get_column_letter(b)}{r})",
               money=True, demo_label=demo)
    _provenance_sheet(wb.create_sheet(PROVENANCE_SHEET), carried)
    return wb


PROVENANCE_SHEET = "Nguồn gốc"


def _provenance_sheet(ws: Worksheet, carried: Carried) -> None:
    """One row per new commune: its old communes, those missing, and how each criterion was derived."""
    ws.append(["Quy tắc: xã mới đạt một tiêu chí khi mọi xã cũ đều đạt các tiêu chí cũ tương ứng; một xã cũ "
               "chưa đạt thì chưa đạt; thiếu số liệu thì 'Cần nhập'. Cán bộ có thể sửa mọi ô."])
    ws.append(["Mã xã", "Tên xã", "Xã cũ trong dữ liệu", "Xã cũ thiếu số liệu",
               *(f"Cách suy ra {k}" for k in carried.criteria.ids)])  # not a header the reader takes for criteria
    for code, row in carried.communes.iterrows():
        ws.append([int(code), row["commune_name"], row["parts"], row["missing_parts"],
                   *carried.why.loc[code].tolist()])
    notes = [("Xã cũ không có trong danh mục mới (cần gán bằng --assign)", carried.unassigned),
             ("Xã cũ đã thành một phần của phường (không thuộc NTM)", carried.into_wards)]
    for label, codes in notes:
        if codes:
            ws.append([label, "; ".join(codes)])


def write_carried(carried: Carried, ds: Dataset, path: Path) -> None:
    """Write a carried dataset as a planners' workbook, atomically (see :func:`build_carried_workbook`)."""
    save_workbook_atomic(build_carried_workbook(carried, ds), path)


def parse_assign(pairs: list[str]) -> dict[str, str]:
    """Read ``OLD=NEW`` commune code pairs (the ``--assign`` option).

    Raises
    ------
    InputError
        Naming each pair that is not of that form.
    """
    out, bad = {}, []
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not normalise_code(old) or not normalise_code(new):
            bad.append(Problem("--assign", Text("carry.pair"), expected=Text("carry.pair.expected"), found=pair))
        out[normalise_code(old)] = normalise_code(new)
    if bad:
        raise InputError(bad)
    return out
