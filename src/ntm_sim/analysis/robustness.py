"""Robustness of plans under uncertainty: probabilities, regret, drivers, failure scenarios.

Vocabulary after EMA Workbench and Rhodium (ideas re-implemented, no code copied):
*satisficing* is the probability of meeting a target; *regret* of a plan in a draw is how
many communes it reaches fewer than the best plan in that same draw; *scenario
discovery* finds the ranges of the uncertain parameters under which a plan fails (PRIM,
Friedman & Fisher 1999).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ntm_sim.messages import Catalogue
from ntm_sim.simulate import SimulationResult, scalar_outcomes
from ntm_sim.text import format_number_vi, format_percent_vi

VI, EN = Catalogue("vi"), Catalogue("en")  # the words of the plain-language findings are in the catalogue
#: each uncertain parameter's name in words: (Vietnamese, English)
PARAMETER_LABELS = {name: (VI(f"robustness.param.{name}"), EN(f"robustness.param.{name}")) for name in (
    "overrun_median", "disbursement_mean", "delay_multiplier", "slip_multiplier", "disaster_rate", "disaster_damage")}
QUANTILES = (5, 25, 50, 75, 95)


def outcome_table(result: SimulationResult, plan: str) -> pd.DataFrame:
    """Mean, spread and percentiles of each scalar outcome of a plan."""
    rows = {}
    for name in scalar_outcomes(result.instance):
        x = np.asarray(result.outcomes[plan][name], dtype=float)
        rows[name] = {"mean": x.mean(), "std": x.std(ddof=1) if len(x) > 1 else 0.0,
                      **{f"p{q}": float(np.percentile(x, q)) for q in QUANTILES}}
    return pd.DataFrame.from_dict(rows, orient="index")


def target_probabilities(result: SimulationResult, plan: str) -> dict[str, float]:
    """Probability of reaching each target of the scenario (and all of them together)."""
    return {name: float(ok.mean()) for name, ok in result.target_success(plan).items()}


def threshold_curve(result: SimulationResult, plan: str, outcome: str = "communes_ntm") -> pd.Series:
    """P(outcome ≥ k) for every k between the 1st and 99th percentile."""
    x = np.asarray(result.outcomes[plan][outcome])
    lo, hi = int(np.floor(np.percentile(x, 1))), int(np.ceil(np.percentile(x, 99)))
    ks = np.arange(lo, hi + 1)
    return pd.Series([(x >= k).mean() for k in ks], index=pd.Index(ks, name=outcome), name="probability")


def regret(result: SimulationResult, outcome: str = "communes_ntm") -> pd.DataFrame:
    """Regret of each plan against the best plan in each draw (common random numbers).

    Returns
    -------
    DataFrame
        Per plan: mean and 90th-percentile regret, and the share of draws in which the
        plan is (one of) the best.
    """
    plans = result.plans
    values = np.column_stack([np.asarray(result.outcomes[p][outcome], dtype=float) for p in plans])
    best = values.max(axis=1, keepdims=True)
    reg = best - values
    return pd.DataFrame({"mean_regret": reg.mean(axis=0), "p90_regret": np.percentile(reg, 90, axis=0),
                         "max_regret": reg.max(axis=0), "share_best": (reg == 0).mean(axis=0)},
                        index=pd.Index(plans, name="plan"))


def sensitivity(result: SimulationResult, plan: str, outcome: str = "communes_ntm", bins: int = 20) -> pd.DataFrame:
    """Which uncertain parameters drive an outcome.

    For each experiment parameter: the first-order share of the outcome's variance it
    explains (correlation ratio over quantile bins, a Sobol first-order estimate that
    works with any sampler) and Spearman's rank correlation.
    """
    from scipy.stats import spearmanr  # here: half a second to import, for the processes that never call this

    y = np.asarray(result.outcomes[plan][outcome], dtype=float)
    rows = {}
    var = y.var()
    for name in result.experiments.columns:
        x = result.experiments[name].to_numpy()
        if np.ptp(x) == 0 or var == 0:
            rows[name] = {"first_order": 0.0, "spearman": 0.0}
            continue
        edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
        means = np.bincount(which, weights=y) / np.maximum(np.bincount(which), 1)
        counts = np.bincount(which)
        first = float((counts * (means - y.mean()) ** 2).sum() / counts.sum() / var)
        rows[name] = {"first_order": first, "spearman": float(spearmanr(x, y).statistic)}
    table = pd.DataFrame.from_dict(rows, orient="index").sort_values("first_order", ascending=False)
    table.index.name = "parameter"
    return table


@dataclass(frozen=True)
class Box:
    """A box of parameter ranges found by PRIM, with how well it captures failures."""

    limits: dict[str, tuple[float, float]]
    coverage: float   # share of all failures inside the box
    density: float    # failure rate inside the box
    mass: float       # share of draws inside the box


def prim(x: pd.DataFrame, y: np.ndarray, *, alpha: float = 0.05, min_mass: float = 0.05) -> list[Box]:
    """Patient Rule Induction Method: peel the parameter space towards failures.

    Parameters
    ----------
    x
        Experiments (one column per parameter).
    y
        Failure indicator per draw.
    alpha
        Share of the remaining draws removed at each peel.
    min_mass
        Stop when the box holds fewer draws than this share.

    Returns
    -------
    list of Box
        The peeling trajectory, from the full space to the smallest box.
    """
    y = np.asarray(y, dtype=bool)
    cols = [c for c in x.columns if np.ptp(x[c].to_numpy()) > 0]
    data = x[cols].to_numpy()
    total = max(int(y.sum()), 1)
    inside = np.ones(len(y), dtype=bool)
    limits = {c: (float(x[c].min()), float(x[c].max())) for c in x.columns}
    boxes = [Box(dict(limits), float(y.sum() / total), float(y.mean()), 1.0)]
    while inside.mean() > min_mass and y[inside].mean() < 1.0:
        best = None
        for j, c in enumerate(cols):
            v = data[inside, j]
            for side in ("low", "high"):
                cut = np.quantile(v, alpha if side == "low" else 1 - alpha)
                keep = inside & ((data[:, j] > cut) if side == "low" else (data[:, j] < cut))
                if keep.sum() == 0 or keep.sum() == inside.sum():
                    continue
                density = y[keep].mean()
                if best is None or density > best[0]:
                    best = (density, keep, c, side, cut)
        if best is None:
            break
        density, keep, c, side, cut = best
        if keep.mean() < min_mass:
            break
        inside = keep
        lo, hi = limits[c]
        limits[c] = (float(cut), hi) if side == "low" else (lo, float(cut))
        boxes.append(Box(dict(limits), float(y[inside].sum() / total), float(density), float(inside.mean())))
    return boxes


def choose_box(boxes: list[Box], min_coverage: float = 0.5) -> Box:
    """The densest box that still holds at least ``min_coverage`` of the failures."""
    eligible = [b for b in boxes if b.coverage >= min_coverage]
    return max(eligible or boxes, key=lambda b: (b.density, b.coverage))


@dataclass
class Discovery:
    """Where a plan fails, in numbers and in words."""

    failure: str                     # what counts as failure, in words (English)
    failure_vi: str
    failure_rate: float
    box: Box
    restricted: dict[str, tuple[float, float]] = field(default_factory=dict)
    text_vi: str = ""
    text_en: str = ""


def _failure(x: np.ndarray, target: int | None) -> tuple[np.ndarray, str, str]:
    """What counts as failure (see :func:`discover`): the draws that fail, in English and in Vietnamese."""
    if target is not None and 0.05 <= (x < target).mean() <= 0.95:
        return x < target, EN("robustness.below_target", target=target), VI("robustness.below_target", target=target)
    median = float(np.median(x))
    note = "" if target is None else " " + EN("robustness.target_missed", target=target,
                                               share=f"{(x < target).mean():.0%}")
    note_vi = "" if target is None else " " + VI("robustness.target_missed", target=target,
                                                  share=format_percent_vi((x < target).mean(), 0))
    return (x < median, EN("robustness.below_median", median=f"{median:g}", note=note),
            VI("robustness.below_median", median=format_number_vi(median), note=note_vi))


def _condition(name: str, low: float | None, high: float | None) -> tuple[str, str]:
    """One restricted parameter in words, (Vietnamese, English): between, above or below (None: not bounded)."""
    vi_name, en_name = PARAMETER_LABELS.get(name, (name, name))
    kind = "between" if low is not None and high is not None else "above" if low is not None else "below"
    vi = VI(f"robustness.{kind}", name=vi_name, low=None if low is None else format_number_vi(low, 2),
            high=None if high is None else format_number_vi(high, 2))
    en = EN(f"robustness.{kind}", name=en_name, low=None if low is None else f"{low:.2f}",
            high=None if high is None else f"{high:.2f}")
    return vi, en


def discover(result: SimulationResult, plan: str, *, target: int | None = None) -> Discovery:
    """Find, in plain words, the conditions under which a plan misses its target.

    Failure is "fewer communes NTM than the target" when that happens in 5–95% of draws;
    otherwise (always or never missing) it is "below the plan's median outcome", and the
    text says so.
    """
    x = np.asarray(result.outcomes[plan]["communes_ntm"])
    target = target if target is not None else result.instance.targets.communes_ntm
    y, failure, failure_vi = _failure(x, target)
    exp = result.experiments
    box = choose_box(prim(exp, y))
    full = {c: (float(exp[c].min()), float(exp[c].max())) for c in exp.columns}
    restricted = {}
    for c, (lo, hi) in box.limits.items():
        flo, fhi = full[c]
        span = fhi - flo
        if span > 0 and (lo - flo > 0.05 * span or fhi - hi > 0.05 * span):
            restricted[c] = (lo, hi)
    parts_vi, parts_en = [], []
    for c, (lo, hi) in restricted.items():
        flo, fhi = full[c]
        raised, lowered = lo - flo > 0.05 * (fhi - flo), fhi - hi > 0.05 * (fhi - flo)
        vi, en = _condition(c, lo if raised else None, hi if lowered or not raised else None)
        parts_vi.append(vi)
        parts_en.append(en)
    if parts_en:
        text_en = EN("robustness.fails_when", failure=failure, density=f"{box.density:.0%}",
                     conditions=f" {EN('robustness.and')} ".join(parts_en), coverage=f"{box.coverage:.0%}",
                     rate=f"{y.mean():.0%}")
        text_vi = VI("robustness.fails_when", failure=failure_vi, density=format_percent_vi(box.density, 0),
                     conditions=f" {VI('robustness.and')} ".join(parts_vi),
                     coverage=format_percent_vi(box.coverage, 0), rate=format_percent_vi(y.mean(), 0))
    else:
        text_en = EN("robustness.evenly", failure=failure, rate=f"{y.mean():.0%}")
        text_vi = VI("robustness.evenly", failure=failure_vi, rate=format_percent_vi(y.mean(), 0))
    return Discovery(failure, failure_vi, float(y.mean()), box, restricted, text_vi, text_en)
