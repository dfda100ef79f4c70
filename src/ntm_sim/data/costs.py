"""Default unit costs: estimates for provinces that bring no cost sheet."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from ntm_sim.data.criteria import CriteriaSet, load_criteria_mapping
from ntm_sim.text import shipped_yaml

_COMMUNE_COST_COLUMNS = {
    "advanced_cost_mvnd": ("tiers", "advanced_cost_mvnd"),
    "model_cost_mvnd": ("tiers", "model_cost_mvnd"),
    "village_ntm_cost_mvnd": ("villages", "village_ntm_cost_mvnd"),
    "village_model_cost_mvnd": ("villages", "village_model_cost_mvnd"),
}
_DISTRICT_COST_COLUMNS = {
    "district_cost_mvnd": ("districts", "district_cost_mvnd"),
    "district_advanced_cost_mvnd": ("districts", "district_advanced_cost_mvnd"),
}


@dataclass(frozen=True)
class UnitCosts:
    """Default unit costs (million VND) and how they scale with commune traits."""

    criteria: dict[str, float]
    tiers: dict[str, float]
    villages: dict[str, float]
    districts: dict[str, float]
    reference_population: float
    population_elasticity: float
    especially_difficult_multiplier: float
    criteria_set: str = "qd318-2021-2025"

    def criterion_costs(self, criteria: CriteriaSet) -> pd.Series:
        """Unit cost of each criterion of ``criteria``.

        For a set other than the one the costs are given for, a criterion costs the sum of
        the old criteria its link lists (``data/criteria/mappings``): an assumption like
        every default cost, and NaN where there is no mapping.
        """
        if criteria.id == self.criteria_set:
            return pd.Series({k: self.criteria.get(k, np.nan) for k in criteria.ids})
        try:
            mapping = load_criteria_mapping(self.criteria_set, criteria.id)
        except KeyError:
            return pd.Series(np.nan, index=criteria.ids)
        return pd.Series({k: sum(self.criteria[o] for o in mapping.links[k].old) or np.nan
                          for k in criteria.ids})

    def commune_factor(self, communes: pd.DataFrame) -> pd.Series:
        """Cost multiplier per commune from difficulty and population (1 if unknown)."""
        pop = communes["population"].astype(float)
        scale = (pop / self.reference_population) ** self.population_elasticity
        scale = scale.where(pop > 0, 1.0).fillna(1.0)
        hard = np.where(communes["especially_difficult"], self.especially_difficult_multiplier, 1.0)
        return scale * hard


@cache
def default_unit_costs() -> UnitCosts:
    """Load the shipped default unit costs (``data/default_costs.yaml``)."""
    raw = shipped_yaml(
        (resources.files("ntm_sim") / "data" / "default_costs.yaml").read_text(encoding="utf-8")
    )
    return UnitCosts(
        criteria={k: float(v) for k, v in raw["criteria"].items()},
        tiers={k: float(v) for k, v in raw["tiers"].items()},
        villages={k: float(v) for k, v in raw["villages"].items()},
        districts={k: float(v) for k, v in raw["districts"].items()},
        reference_population=float(raw["reference_population"]),
        population_elasticity=float(raw["population_elasticity"]),
        especially_difficult_multiplier=float(raw["especially_difficult_multiplier"]),
        criteria_set=str(raw["criteria_set"]),
    )


def estimate_costs(
    criteria: CriteriaSet, communes: pd.DataFrame, status: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Estimate the cost of every criterion for every commune from unit costs.

    Returns
    -------
    cost : DataFrame
        communes × criteria, million VND (rounded to 10).
    estimated : DataFrame
        All True: every value is an estimate.
    """
    unit = default_unit_costs()
    factor = unit.commune_factor(communes)
    base = unit.criterion_costs(criteria)
    cost = pd.DataFrame(np.outer(factor, base), index=status.index, columns=criteria.ids)
    cost = (cost / 10).round() * 10
    return cost, pd.DataFrame(True, index=status.index, columns=criteria.ids)


def estimate_unit_costs(
    frame: pd.DataFrame, *, districts_known: bool = True, level: str = "commune"
) -> pd.DataFrame:
    """Fill missing tier, village or district costs from the defaults.

    Parameters
    ----------
    frame
        The commune table (``level="commune"``) or the district table.
    level
        ``"commune"`` or ``"district"``.

    Returns
    -------
    DataFrame
        A copy with NaN cost columns filled; column ``costs_estimated`` is not added,
        callers compare before and after if they need to know.
    """
    unit = default_unit_costs()
    out = frame.copy()
    if level == "commune":
        factor = unit.commune_factor(out)
        for col, (section, key) in _COMMUNE_COST_COLUMNS.items():
            value = getattr(unit, section)[key] * factor
            out[col] = out[col].fillna((value / 10).round() * 10)
    else:
        for col, (section, key) in _DISTRICT_COST_COLUMNS.items():
            out[col] = out[col].fillna(getattr(unit, section)[key])
    return out
