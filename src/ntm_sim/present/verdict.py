"""The verdict box: each scenario's answer in a few sentences a committee member can follow.

For one run (a results folder, :class:`~ntm_sim.analysis.compare.ScenarioRun`) it says, in
the reader's language and from the run's own files only:

* the **recommended plan** in planners' words (how it was chosen, its reserve);
* communes NTM by the horizon: the simulated **median and 5–95% band**, and the figure on
  paper;
* **each target's chance** against the scenario's own targets, and whether it reaches the
  scenario's confidence level;
* the **money** for the communes target at that confidence: from the run's budget curve
  when one is stored (:mod:`ntm_sim.run.frontier_cache`), the funding gap on paper of a
  min-cost run beside it, or that the curve has not been computed;
* what **stands in the way** (``obstacles`` in ``summary.json``,
  :mod:`ntm_sim.analysis.obstacles`), and for a chance near 0% **why**: money short even on
  paper, or the uncertainty that takes the plan below the target.

:func:`verdict_of` gives the facts (checked by the tests against the files), :func:`verdict_html`
the boxes of the page and the report, :func:`verdict_lines` plain lines (``plan.xlsx``'s cover).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from ntm_sim.analysis.compare import ScenarioRun, own_targets
from ntm_sim.analysis.frontier import Frontier
from ntm_sim.messages import Catalogue

VI = Catalogue("vi")
#: a chance below this is "practically nil": the verdict explains why
NIL = 0.05
#: targets named one by one in the box (the others are counted)
NAMED_TARGETS = ("communes_ntm", "advanced", "model")


@dataclass(frozen=True)
class TargetChance:
    """One target of the scenario and the recommended plan's chance of reaching it."""

    key: str
    target: float
    probability: float
    met: bool
    paper: float | None
    obstacle: str | None = None
    without: float | None = None  # the chance with the obstacle switched off


@dataclass(frozen=True)
class Verdict:
    """A run's verdict, as facts (see the module docstring)."""

    name: str
    horizon: int
    plan: str
    median: float | None
    low: float | None
    high: float | None
    paper: float
    confidence: float | None
    targets: list[TargetChance] = field(default_factory=list)
    others_met: int = 0
    others: int = 0
    obstacle: str | None = None
    short_on_paper: bool = False
    paper_median: float | None = None  # communes with every uncertainty off (the simulation on paper)
    curve_money_bn: float | None = None
    curve_top_bn: float | None = None
    curve_top_p: float | None = None
    curve: bool = False
    gap_bn: float | None = None
    budget_bn: float = 0.0


def plan_words(run: ScenarioRun, t: Catalogue) -> str:
    """The recommended plan in planners' words: how it was chosen, and its reserve."""
    rec = run.recommendation
    chosen, kind = ("", "") if rec is None else (rec.chosen, rec.chosen_kind)
    projects = t.number(0 if rec is None else rec.reserve_projects)
    if run.contract.mode == "min-cost":
        return t("verdict.plan_min_cost")
    if chosen == "expected_money":
        return t("verdict.plan_expected_money", projects=projects)
    if kind == "expected":
        reserve = 0.0 if rec is None else rec.reserve
        if reserve <= 0:
            return t("verdict.plan_expected", year=run.horizon)
        return t("verdict.plan_reserve", year=run.horizon, pct=t.number(100 * reserve), projects=projects)
    if kind == "rule" or chosen in ("planners_rule", "cheapest_first", "d07_shareout"):
        return t("verdict.plan_rule", rule=t(f"plan.{chosen}") if chosen else "")
    return t("verdict.plan_paper")


def _chances(run: ScenarioRun) -> tuple[list[TargetChance], int, int]:
    head = run.headline
    obstacles = run.contract.obstacles
    mains, without = ({}, {}) if obstacles is None else (obstacles.main, obstacles.without)
    named, met_others, others = [], 0, 0
    for key, row in ({} if head is None else head.targets).items():
        if row.target is None:
            continue
        if key not in NAMED_TARGETS:
            others += 1
            met_others += bool(row.met)
            continue
        main = mains.get(key)
        off = without.get(main) if main else None
        lifted = None if off is None else off.targets.get(key)
        named.append(TargetChance(key=key, target=float(row.target), probability=float(row.probability),
                                  met=bool(row.met), paper=row.deterministic, obstacle=main,
                                  without=None if lifted is None else float(lifted)))
    named.sort(key=lambda c: NAMED_TARGETS.index(c.key))
    return named, met_others, others


def verdict_of(run: ScenarioRun, t: Catalogue = VI, curve: Frontier | None = None) -> Verdict:
    """The verdict of ``run`` (its budget curve ``curve`` where one is stored)."""
    head = run.headline
    o = None if head is None else head.outcomes.get("communes_ntm")
    record = run.contract
    obstacles = record.obstacles
    targets, met_others, others = _chances(run)
    top = curve.table.sort_values("budget_mvnd").iloc[-1] if curve is not None and len(curve.table) else None
    gap = record.funding_gap_mvnd
    return Verdict(
        name=run.name, horizon=run.horizon, plan=plan_words(run, t),
        median=None if o is None else o.median, low=None if o is None else o.p5, high=None if o is None else o.p95,
        paper=float(record.communes_ntm), confidence=None if head is None else head.confidence,
        targets=targets, others_met=met_others, others=others,
        obstacle=None if obstacles is None else obstacles.main.get("communes_ntm"),
        short_on_paper=obstacles is not None and obstacles.short_on_paper,
        paper_median=None if obstacles is None else obstacles.none.median,
        curve=curve is not None,
        curve_money_bn=None if curve is None or curve.least_budget_mvnd is None else curve.least_budget_mvnd / 1000,
        curve_top_bn=None if top is None else float(top["budget_mvnd"]) / 1000,
        curve_top_p=None if top is None else float(top["p_target"]),
        gap_bn=None if gap is None else gap / 1000, budget_bn=record.budget_mvnd / 1000)


def _pct(p: float, t: Catalogue) -> str:
    return f"{t.number(100 * p)}%"


def _target_line(v: Verdict, c: TargetChance, labels: dict[str, str], t: Catalogue) -> str:
    state = t("verdict.met" if c.met else "verdict.missed", conf=_pct(v.confidence or 0.8, t))
    mark = "✓" if c.met else "✗"  # status in a shape too, not by colour alone
    line = t("verdict.target", what=labels.get(c.key, c.key), target=t.number(c.target), p=_pct(c.probability, t),
             mark=mark, state=state)
    if not c.met and c.obstacle and c.without is not None and c.without > c.probability:
        line += " " + t("verdict.target_obstacle", group=t(f"group.{c.obstacle}"), p=_pct(c.without, t))
    return line


def _money_line(v: Verdict, t: Catalogue) -> str:
    communes = next((c for c in v.targets if c.key == "communes_ntm"), None)
    if communes is None:
        return ""
    conf = _pct(v.confidence or 0.8, t)
    if v.curve_money_bn is not None:
        text = t("verdict.money", money=t.number(v.curve_money_bn), target=t.number(communes.target), conf=conf,
                 budget=t.number(v.budget_bn))
    elif v.curve and v.curve_top_bn is not None:
        text = t("verdict.money_none", top=t.number(v.curve_top_bn), target=t.number(communes.target), conf=conf,
                 p=_pct(v.curve_top_p or 0.0, t))
    else:
        text = t("verdict.money_unknown", conf=conf)
    if v.gap_bn is not None:
        text += " " + t("verdict.gap", gap=t.number(v.gap_bn), p=_pct(communes.probability, t), conf=conf)
    return text


def _why_line(v: Verdict, t: Catalogue) -> str:
    communes = next((c for c in v.targets if c.key == "communes_ntm"), None)
    if communes is None:
        return ""
    group = t(f"group.{v.obstacle}") if v.obstacle else ""
    if communes.met:
        return t("verdict.holds", group=group) if group else ""
    if v.short_on_paper:
        text = t("verdict.why_money", paper=t.number(v.paper_median if v.paper_median is not None else v.paper),
                 target=t.number(communes.target), median=t.number(v.median or 0))
        return text + (" " + t("verdict.why_money_also", group=group) if group else "")
    if group:
        key = "verdict.why_risk_nil" if communes.probability < NIL else "verdict.why_risk"
        return t(key, group=group, p=_pct(communes.without or communes.probability, t),
                 paper=t.number(v.paper), target=t.number(communes.target))
    return t("verdict.why_unknown")


def verdict_lines(run: ScenarioRun, t: Catalogue = VI, curve: Frontier | None = None,
                  labels: dict[str, str] | None = None) -> list[str]:
    """The verdict of ``run`` as plain sentences, in order (the box's content without its markup)."""
    v = verdict_of(run, t, curve)
    labels = labels or target_labels(run, t)
    lines = [t("verdict.plan", plan=v.plan)]
    if v.median is None:
        lines.append(t("verdict.paper_only", year=v.horizon, paper=t.number(v.paper)))
        return lines
    lines.append(t("verdict.communes", year=v.horizon, median=t.number(v.median), low=t.number(v.low or 0),
                   high=t.number(v.high or 0), paper=t.number(v.paper)))
    lines += [_target_line(v, c, labels, t) for c in v.targets]
    if v.others:
        lines.append(t("verdict.others", met=t.number(v.others_met), n=t.number(v.others),
                       conf=_pct(v.confidence or 0.8, t)))
    lines += [line for line in (_money_line(v, t), _why_line(v, t)) if line]
    return lines


def target_labels(run: ScenarioRun, t: Catalogue) -> dict[str, str]:
    """The named targets in words, with the run's own tiers ("xã NTM hiện đại (thí điểm)")."""
    tiers = run.contract.tiers or {}
    out = {"communes_ntm": t("verdict.t_communes")}
    for slot in ("advanced", "model"):
        tier = tiers.get(slot)
        short = (None if tier is None else tier.short_en if t.lang == "en" else tier.short_vi) or t(f"verdict.t_{slot}")
        label = t("verdict.t_tier", tier=short)
        out[slot] = label[:1].upper() + label[1:]  # a tier's short name starts the line ("modern (pilot) …")
    return out


def verdict_html(runs: list[ScenarioRun], t: Catalogue = VI, curves: dict[str, Frontier | None] | None = None) -> str:
    """One box per run: its name as a heading, then :func:`verdict_lines` (``class="verdict"``)."""
    curves = curves or {}
    boxes = []
    for i, run in enumerate(runs):
        lines = verdict_lines(run, t, curves.get(run.name))
        own = own_targets(run)
        items = "".join(f"<li>{html.escape(line)}</li>" for line in lines[1:])
        boxes.append(f'<section class="verdict" id="verdict-{i}" data-run="{html.escape(run.folder.name)}" '
                     f'data-target="{"" if own.get("communes_ntm") is None else int(own["communes_ntm"])}">'
                     f"<h3>{html.escape(run.name)}</h3><p class=\"verdict-plan\">{html.escape(lines[0])}</p>"
                     f"<ul>{items}</ul></section>")
    return f'<div class="verdicts">{"".join(boxes)}</div>'
