"""What a dataset must hold before it is planned with: the checks every way data come in passes, and the warnings."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ntm_sim.bounds import MAX_MONEY_MVND
from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.data.province import Dataset
from ntm_sim.errors import Problem, Text
from ntm_sim.text import norm_key

#: The first year a commune could be recognised NTM (the programme began in 2010, Decision 800/QĐ-TTg).
FIRST_RECOGNITION_YEAR = 2010


def commune_class_id(criteria: CriteriaSet, value: object) -> str | None:
    """The id of the criteria set's commune class that ``value`` names (None if none does).

    A class is named by its id (``nhom3``), its name (``Xã nhóm 3``), ``nhóm 3``,
    ``group 3`` or its number (``3``), compared after NFC normalisation and case folding.
    """
    key = norm_key(value)
    for number, cls in enumerate(criteria.commune_classes, start=1):
        names = (cls.id, cls.name_vi, cls.name_en, f"nhóm {number}", f"nhom {number}", f"group {number}",
                 str(number))
        if key in {norm_key(n) for n in names}:
            return cls.id
    return None


def commune_class_expected(criteria: CriteriaSet) -> str:
    """What a ``commune_class`` cell may hold under ``criteria`` (for messages)."""
    if not criteria.commune_classes:
        return f"blank: the criteria set {criteria.id} has no commune classes"
    ids = [c.id for c in criteria.commune_classes]
    return (f"one of {', '.join(ids)} (or 'nhóm 1'…'nhóm {len(ids)}', or the number), "
            "or blank where not known")


def _commune_class_ids(communes: pd.DataFrame, criteria: CriteriaSet) -> pd.DataFrame:
    """The ``commune_class`` column as the set's class ids (values that name none are kept for the check)."""
    if "commune_class" not in communes.columns:
        return communes
    communes = communes.copy()
    communes["commune_class"] = [commune_class_id(criteria, v) or v if v else "" for v in communes["commune_class"]]
    return communes


def commune_class_problems(ds: Dataset, file: str = "<dataset>") -> list[Problem]:
    """Commune classes that are not classes of the dataset's criteria set (tables built in code).

    The readers check each cell with its row and column (:mod:`ntm_sim.data.io`); this is the
    check for tables that did not come from a file.
    """
    if "commune_class" not in ds.communes.columns:
        return []
    known = {c.id for c in ds.criteria.commune_classes}
    return [Problem(file, Text("data.not_a_class", commune=code, value=str(value), set=ds.criteria.id),
                    column="commune_class", expected=commune_class_expected(ds.criteria), found=str(value))
            for code, value in ds.communes["commune_class"].items() if value and value not in known]


_ALL = {"all", "tất cả", "tat ca", "*"}


def eligibility_from_rule(criteria: CriteriaSet, rule: str) -> pd.Series:
    """Turn an eligibility rule into a bool Series over criterion ids.

    A rule is ``"all"``/``"Tất cả"``, kind names (``"infrastructure"``, ``"Hạ tầng"``),
    criterion codes or names, separated by ``;`` or ``,``.

    Raises
    ------
    ValueError
        Naming the part of the rule that is neither a kind nor a criterion.
    """
    out = pd.Series(False, index=criteria.ids)
    parts = [p.strip() for p in re.split(r"[;,]", rule or "") if p.strip()]
    if not parts:
        raise ValueError(Text("rule.empty"))
    kind_names = {}
    for k in criteria.kinds:
        for name in (k.id, k.name_vi, k.name_en, f"kind:{k.id}"):
            kind_names[norm_key(name)] = k.id
    for part in parts:
        key = norm_key(part)
        if key in _ALL:
            out[:] = True
        elif key in kind_names:
            out[criteria.by_kind(kind_names[key])] = True
        elif (crit := criteria.match(part)) is not None:
            out[crit] = True
        else:
            raise ValueError(Text("rule.unknown_part", part=repr(part)))
    return out


def check_dataset(ds: Dataset, file: str = "<dataset>") -> list[Problem]:
    """Check a dataset's internal consistency.

    Returns
    -------
    list of Problem
        Errors (the dataset cannot be used) and warnings.
    """
    problems = (_identity_problems(ds, file) + _money_problems(ds, file) + _tier_problems(ds, file)
                + _village_problems(ds, file))
    return (problems + recognition_problems(ds, file) + commune_class_problems(ds, file) + zone3_warnings(ds, file)
            + money_warnings(ds, file))


def _identity_problems(ds: Dataset, file: str) -> list[Problem]:
    """Codes twice or missing, communes without a name, districts the table does not have."""
    problems: list[Problem] = []
    c = ds.communes
    dup = c.index[c.index.duplicated()].unique()
    for code in dup:
        problems.append(Problem(file, Text("data.code_twice", commune=code)))
    if (c.index == "").any():
        problems.append(Problem(file, Text("data.no_code")))
    names = c["commune_name"] if "commune_name" in c.columns else pd.Series("", index=c.index)
    for code in c.index[names.fillna("").astype(str).str.strip() == ""]:
        problems.append(Problem(file, Text("data.no_name", commune=code)))  # every table and page names communes
    unknown_d = sorted(set(c["district_code"]) - set(ds.districts.index) - {""})  # "": no district
    for d in unknown_d:
        problems.append(Problem(file, Text("data.district_unknown", district=repr(d))))
    return problems


def _money_problems(ds: Dataset, file: str) -> list[Problem]:
    """Costs below zero or beyond any real amount (inf and NaN too)."""
    problems: list[Problem] = []
    c = ds.communes
    bad_cost = ds.cost.where(~ds.status) < 0
    for code, crit in zip(*np.nonzero(bad_cost.to_numpy()), strict=True):
        problems.append(
            Problem(file, Text("data.negative_cost", commune=c.index[code], criterion=ds.criteria.ids[crit]))
        )
    huge = ~(ds.cost.where(~ds.status).fillna(0.0).abs() <= MAX_MONEY_MVND)  # inf and NaN too (ntm_sim.bounds)
    for code, crit in zip(*np.nonzero(huge.to_numpy()), strict=True):
        problems.append(Problem(file, Text("data.huge_cost", commune=c.index[code], criterion=ds.criteria.ids[crit],
                                           high=MAX_MONEY_MVND)))
    return problems


def _tier_problems(ds: Dataset, file: str) -> list[Problem]:
    """Tiers held without the tier or the recognition they sit on."""
    problems: list[Problem] = []
    c = ds.communes
    crit = ds.criteria
    if crit.advanced_tier is not None:
        for code in c.index[c["model"] & ~c["advanced"]]:
            problems.append(Problem(file, Text("data.model_not_advanced", commune=code)))
    elif crit.top_tier is not None:
        # the top tier nests directly on NTM (Decision 51: the modern commune), kept with the recognition
        for code in c.index[c["model"] & ~ds.recognised]:
            problems.append(Problem(file, Text("data.top_tier_not_recognised", commune=code,
                                               tier=crit.top_tier.label_vi), column="model",
                                    expected=Text("data.top_tier_not_recognised.expected",
                                                  tier=crit.top_tier.label_vi)))
    # a recognised tier is kept with the commune's recognition, even short of criteria of a newer set
    for code in c.index[c["advanced"] & ~ds.recognised]:
        problems.append(
            Problem(file, Text("data.advanced_not_recognised", commune=code), column="advanced",
                    expected=Text("data.advanced_not_recognised.expected"))
        )
    return problems


def _village_problems(ds: Dataset, file: str) -> list[Problem]:
    """More NTM villages than villages, more model villages than NTM ones; envelopes below zero or too large."""
    problems: list[Problem] = []
    c = ds.communes
    over = c["villages_ntm"] > c["villages"]
    for code in c.index[over]:
        problems.append(Problem(file, Text("data.villages_ntm", commune=code)))
    over = c["villages_model"] > c["villages_ntm"]
    for code in c.index[over]:
        problems.append(
            Problem(file, Text("data.villages_model", commune=code))
        )
    if (ds.envelopes < 0).to_numpy().any():
        problems.append(Problem(file, Text("data.negative_envelope")))
    if not (ds.envelopes.fillna(0.0).abs() <= MAX_MONEY_MVND).to_numpy().all():
        problems.append(Problem(file, Text("data.huge_envelope", high=MAX_MONEY_MVND)))
    return problems


def money_warnings(ds: Dataset, file: str = "<dataset>") -> list[Problem]:
    """Warn when the data hold no money: a plan for the most communes then needs the scenario's.

    A status sheet alone is a valid dataset (a least-cost plan needs no envelopes), so this
    is a warning here; ``solve`` in max-achievement mode refuses it unless the scenario adds
    money (:func:`ntm_sim.model.instance.build_instance`).
    """
    if (ds.envelopes.to_numpy(dtype=float) > 0).any():
        return []
    found = Text("data.no_source") if ds.sources.empty else Text("data.all_zero")
    return [Problem(file, Text("data.no_money"),
                    sheet="Nguồn vốn" if file.lower().endswith((".xlsx", ".xlsm")) else None,
                    expected=Text("data.no_money.expected"),
                    found=found, severity="warning")]


def recognition_problems(ds: Dataset, file: str = "<dataset>") -> list[Problem]:
    """Recognition years that cannot be right (the readers check each cell; this checks tables built in code).

    A year before :data:`FIRST_RECOGNITION_YEAR` or not whole is an error; a year after
    the first year of the data's money is a warning (the status is the one at the start).
    An advanced commune must be recognised.
    """
    if "recognised_year" not in ds.communes.columns:
        return []
    out: list[Problem] = []
    years = ds.communes["recognised_year"]
    start = min(ds.years) if ds.years else None
    for code, year in years.dropna().items():
        where = {"column": "recognised_year"}
        if year < FIRST_RECOGNITION_YEAR or not float(year).is_integer():
            out.append(Problem(file, Text("data.recognition_year", commune=code, year=f"{year:g}"),
                               expected=Text("data.recognition_year.expected", first=str(FIRST_RECOGNITION_YEAR)),
                               found=f"{year:g}", **where))
        elif start is not None and year > start:
            out.append(Problem(file, Text("data.recognised_late", commune=code, year=f"{year:g}", start=str(start)),
                               expected=Text("data.recognised_late.expected", start=str(start)),
                               found=f"{year:g}", severity="warning", **where))
    for code in ds.communes.index[ds.communes["advanced"] & years.isna()]:
        out.append(Problem(file, Text("data.advanced_no_year", commune=code),
                           column="recognised_year", expected=Text("data.advanced_no_year.expected")))
    return out


def poverty_criteria(criteria: CriteriaSet) -> list[str]:
    """Ids of the criteria about (multidimensional) poverty: their name says "nghèo"."""
    return [k for k in criteria.ids
            if any("nghèo" in norm_key(n) for n in (criteria[k].name_vi, *criteria[k].aliases))]


def zone3_warnings(ds: Dataset, file: str = "<dataset>") -> list[Problem]:
    """Warn about Zone III communes that are NTM or meet the poverty criterion.

    By Decision 33/2020/QĐ-TTg a Zone III (especially difficult) commune is not yet NTM
    and has a poverty rate of at least 15–20%, so it cannot meet the poverty criterion;
    a commune recognised NTM leaves Zone III. Imported data may lag the list, so this
    is a warning, not an error.
    """
    zone3 = ds.communes["especially_difficult"].to_numpy(dtype=bool)
    poverty = poverty_criteria(ds.criteria)
    out = []
    for why, bad in ((Text("data.zone3_ntm"), ds.is_ntm.to_numpy()),
                     (Text("data.zone3_poverty", criteria=", ".join(poverty)),
                      ds.status[poverty].any(axis=1).to_numpy() if poverty else np.zeros(len(zone3), bool))):
        for code in ds.communes.index[zone3 & bad]:
            name = ds.communes.loc[code, "commune_name"]
            out.append(Problem(file, Text("data.zone3", commune=code, name=str(name), why=why),
                               column="especially_difficult", expected=Text("data.zone3.expected"),
                               severity="warning"))
    return out
