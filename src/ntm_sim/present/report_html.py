"""Scenarios side by side as HTML: the tables the dashboard shows and the committee's report.

Every table here takes the reader's catalogue (:class:`ntm_sim.messages.Catalogue`,
Vietnamese by default): words, numbers (``1.234,5`` / ``1,234.5``) and the criteria set's own
tiers in that language; money in tỷ đồng (billion VND) everywhere. A cell's status is shown
by a mark (✓ / ✗) as well as its colour. Every figure is read from results folders (see
:mod:`ntm_sim.analysis.compare`). The report itself (:func:`build_report`, one self-contained
HTML file laid out for A4) is :mod:`ntm_sim.present.report_page`.
"""

from __future__ import annotations

import html
import math

import pandas as pd

from ntm_sim.analysis.compare import (
    TARGET_KEYS,
    ScenarioRun,
    baseline_table,
    commune_probability,
    confidence_of,
    district_names,
    headline_of,
    indicators_for,
    own_targets,
    plannable,
    reference_of,
    risk_table,
    run_criteria,
)
from ntm_sim.messages import MESSAGES, Catalogue
from ntm_sim.model.contracts import SolveSummary, StageRow
from ntm_sim.model.plan import RECOMMENDED

VI = Catalogue("vi")

CSS = """
table.ntm { border-collapse: collapse; font-size: 14px; }
table.ntm th, table.ntm td { border: 1px solid #bbb; padding: 4px 8px; vertical-align: top; }
table.ntm th { text-align: left; }
table.ntm td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.ntm td.met { background: #ddeefb; }
table.ntm td.miss { background: #fde6d2; }
table.ntm td .band, table.ntm td .prob, table.ntm td .paper, table.ntm td .target, table.ntm td .diff {
  display: block; font-size: 12px; color: #444; }
table.ntm td .mark { font-weight: bold; }
table.ntm tfoot th, table.ntm tfoot td { font-weight: bold; border-top: 2px solid #555; }
table.ntm th, table.ntm td, p, li { overflow-wrap: normal; word-break: normal; hyphens: manual; }
.demo { background: #fff3cd; border: 2px solid #d39e00; padding: 6px 10px; font-weight: bold; }
.legend, .chart-alt { font-size: 13px; color: #333; }
.verdicts { display: flex; flex-wrap: wrap; gap: 12px; }
section.verdict { flex: 1 1 320px; border: 2px solid #1a4f8b; border-radius: 4px; padding: 6px 12px;
  background: #f5f8fc; }
section.verdict h3 { margin: 4px 0; font-size: 16px; }
section.verdict p, section.verdict li { font-size: 14px; margin: 3px 0; }
"""

# the indicators shown in money (tỷ đồng: the million-VND figures of the files / 1,000)
MONEY = ("total_cost_mvnd", "unspent_mvnd", "funding_gap_mvnd")


def own_target(run: ScenarioRun, key: str) -> float | None:
    """The run's own target for an indicator (its scenario's), or None where it sets none."""
    name = TARGET_KEYS.get(key)
    return None if name is None else own_targets(run).get(name)


def _mark(met: bool | None) -> str:
    return "" if met is None else f'<span class="mark" aria-hidden="true">{"✓" if met else "✗"}</span> '


def _value_text(value: float, key: str, decimals: int, t: Catalogue) -> str:
    if key in MONEY:
        return t.number(value / 1000, 1)
    return t.number(value, decimals)


def _indicator_cell(run: ScenarioRun, key: str, decimals: int, mine: float | None, shared: float | None,
                    ref: ScenarioRun | None, column: int | None, t: Catalogue) -> str:
    h = headline_of(run, key)
    css = "num" + ("" if h.met is None else " met" if h.met else " miss")
    def fmt(v: float) -> str:
        return html.escape(_value_text(v, key, decimals, t))

    text = _mark(h.met) + fmt(h.value)
    if h.simulated:
        text += f'<span class="band">({fmt(h.low)}–{fmt(h.high)})</span>'
        if h.probability is not None:
            state = t("ind.reached" if h.met else "ind.short")
            text += (f'<span class="prob">{html.escape(t("ind.chance", p=f"{t.number(100 * h.probability)}%"))}'
                     f' ({html.escape(state)})</span>')
        if h.paper is not None and key in ("communes_ntm", "advanced", "model", "district_units"):
            text += f'<span class="paper">{html.escape(t("ind.paper", value=fmt(h.paper)))}</span>'
    elif key not in MONEY and not math.isnan(h.value):  # "–": the run's set has no such count
        text += f'<span class="paper">{html.escape(t("ind.paper_only"))}</span>'
    if mine is not None and shared is None:  # targets differ between the runs: each cell says its own
        text += f'<span class="target">{html.escape(t("ind.own_target", value=fmt(mine)))}</span>'
    if ref is not None:
        base = headline_of(ref, key).value
        if not (math.isnan(base) or math.isnan(h.value)):
            diff = _value_text(h.value - base, key, decimals, t)
            sign = "+" if h.value - base > 0 else ""
            text += f'<span class="diff">{html.escape(t("ind.diff", diff=sign + diff, ref=column))}</span>'
    return f'<td class="{css}">{text}</td>'


def indicators_html(runs: list[ScenarioRun], t: Catalogue = VI) -> str:
    """Headline indicators, one column per scenario, in the reader's language.

    With a simulation a cell shows the median, the 5–95% band, the chance of reaching the
    target and the figure on paper; it is marked ✓ (blue) only when that chance reaches the
    scenario's confidence level, ✗ (orange) otherwise. Without a simulation the figure on
    paper is shown, marked as such, never coloured. A run on the same data and years as an
    earlier one (its reference, :func:`~ntm_sim.analysis.compare.reference_of`) says its
    difference from it; where the runs' targets differ each cell says its own.
    """
    # columns numbered (1), (2), …: a difference names the column it is taken from
    head = "".join(f'<th scope="col">({i}) {html.escape(r.name)}</th>' for i, r in enumerate(runs, start=1))
    refs = [reference_of(r, runs) for r in runs]
    number = {id(r): i for i, r in enumerate(runs, start=1)}
    rows = []
    for key, vi, en, decimals in indicators_for(runs):
        label = vi if t.lang == "vi" else en
        if key in MONEY:
            label = t(f"ind.{key}")
        own = [own_target(r, key) for r in runs]
        found = {x for x in own if x is not None}
        shared = next(iter(found)) if len(found) == 1 and None not in own else None
        cells = "".join(_indicator_cell(r, key, decimals, mine, shared, ref, number.get(id(ref)), t)
                        for r, mine, ref in zip(runs, own, refs, strict=True))
        target = ("" if not found else _value_text(float(shared), key, decimals, t) if shared is not None
                  else t("ind.each_own"))
        rows.append(f'<tr data-indicator="{key}"><th scope="row">{html.escape(label)}</th>'
                    f'<td class="num">{html.escape(target)}</td>{cells}</tr>')
    confidence = confidence_of(runs)
    note = ("" if confidence is None else
            f'<p class="legend" id="indicators-legend">'
            f'{html.escape(t("ind.legend", conf=f"{t.number(100 * confidence)}%"))}</p>')
    return (f'{note}<table class="ntm" id="indicators"><thead><tr><th scope="col">{html.escape(t("ind.head"))}</th>'
            f'<th scope="col">{html.escape(t("ind.target"))}</th>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def plan_name(plan: str, t: Catalogue) -> str:
    """A plan's name in the reader's language (the recommended plan, a rule, the optimum on paper)."""
    key = f"plan.{plan}"
    return t(key) if key in MESSAGES else plan


def _gain(r: pd.Series, t: Catalogue) -> str:
    if r["plan"] == RECOMMENDED or pd.isna(r["gain"]):
        return ""
    if r["gain"] < 0:
        return t.number(r["gain"], 1)
    return t("base.gain", gain=t.number(r["gain"], 1), low=t.number(r["gain_low"], 1),
             high=t.number(r["gain_high"], 1))


def baselines_html(runs: list[ScenarioRun], t: Catalogue = VI) -> str:
    """The recommended plan against the usual rules and the optimum on paper, per scenario (money in tỷ đồng)."""
    table = baseline_table(runs)
    rows = []
    for _, r in table.iterrows():
        sim = "–" if pd.isna(r["sim_mean"]) else t.number(r["sim_mean"], 1)
        rows.append(f'<tr data-plan="{html.escape(r["plan"])}"><td>{html.escape(r["scenario"])}</td>'
                    f'<td>{html.escape(plan_name(r["plan"], t))}</td>'
                    f'<td class="num">{t.number(r["communes_ntm"])}</td><td class="num">{sim}</td>'
                    f'<td class="num">{t.number(r["total_cost_mvnd"] / 1000, 1)}</td>'
                    f'<td class="num">{html.escape(_gain(r, t))}</td></tr>')
    head = "".join(f'<th scope="col">{html.escape(t(f"base.{k}"))}</th>'
                   for k in ("scenario", "plan", "paper", "simulated", "money", "gain_head"))
    return f'<table class="ntm" id="baselines"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def risk_html(runs: list[ScenarioRun], t: Catalogue = VI) -> str:
    """Monte Carlo spread and target probabilities, per scenario with a simulation, each against its own target."""
    table = risk_table(runs)
    if table.empty:
        return f"<p>{t('risk.none')}</p>"
    by_name = {r.name: own_target(r, "communes_ntm") for r in runs}
    failures = {r.name: ((r.simulation or {}).get("plans", {}).get(RECOMMENDED, {}).get("scenario_discovery") or {})
                for r in runs}
    targets = {by_name.get(name) for name in table["scenario"]}
    common = next(iter(targets)) if len(targets) == 1 else None
    label = t("risk.p_common", target=t.number(common)) if common is not None else t("risk.p_own")
    rows = []
    for _, r in table.iterrows():
        mine = by_name.get(r["scenario"])
        goal = "" if common is not None or mine is None else f"≥ {t.number(mine)}: "
        failure = failures.get(r["scenario"], {}).get("text_en" if t.lang == "en" else "text_vi") or ""
        rows.append(f'<tr><td>{html.escape(r["scenario"])}</td><td class="num">{t.number(r["draws"])}</td>'
                    f'<td class="num">{t.number(r["mean"], 1)}</td>'
                    f'<td class="num">{t.number(r["p5"])}–{t.number(r["p95"])}</td>'
                    f'<td class="num">{goal}{_pct(r["p_target"], t, 1)}</td>'
                    f'<td class="num">{_pct(r["p_all"], t, 1)}</td><td>{html.escape(failure)}</td></tr>')
    heads = [t("risk.scenario"), t("risk.draws"), t("risk.mean"), t("risk.band"), label, t("risk.all"),
             t("risk.failure")]
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in heads)
    return f'<table class="ntm" id="risk"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _pct(p: float, t: Catalogue, decimals: int = 0) -> str:
    return "–" if p is None or pd.isna(p) else f"{t.number(100 * float(p), decimals)}%"


def status_text(record: SolveSummary, t: Catalogue = VI) -> str:
    """Solver status in words: which stages are proven optimal, which stopped, and whether it repeats."""
    stages = record.stages

    def name(st: StageRow) -> str:
        if st.name == "tiers":  # the set's own tiers, as the summary names them; in English, the stage
            return html.escape(st.name_vi if t.lang == "vi" else t("stage_name.tiers_en"))
        key = f"stage_name.{st.name}"
        return html.escape(t(key) if key in MESSAGES else st.name_vi)

    if record.proven_optimal:
        return t("status.proven")
    if record.reproducible and all(st.termination in ("optimal", "node_limit") for st in stages):
        stopped = ", ".join(name(st) for st in stages if st.termination == "node_limit")
        return t("status.node_limit", stages=stopped)
    proven = [name(st) for st in stages if st.proven_optimal]
    open_ = [name(st) + ("" if st.mip_gap is None or pd.isna(st.mip_gap)
                         else f" ({t('status.gap', gap=_pct(st.mip_gap, t, 2))})")
             for st in stages if not st.proven_optimal]
    parts = [t("status.time_limit")]
    if proven:
        parts.append(t("status.proven_stages", stages=", ".join(proven)))
    if open_:
        parts.append(t("status.open_stages", stages=", ".join(open_)))
    return "; ".join(parts)


def status_vi(record: SolveSummary) -> str:
    """Solver status in Vietnamese (:func:`status_text`)."""
    return status_text(record, VI)


def plan_record(run: ScenarioRun, t: Catalogue = VI) -> str:
    """Where the run's plan came from: the search's lever, and whose solve the stages shown are."""
    rec = run.recommendation
    if rec is None:
        return t("prov.plan.paper")
    # format 1 folders name no lever: it follows from the candidate, as format 2 writes it
    lever = rec.lever or {"rule": "rule", "deterministic": "deterministic"}.get(
        rec.chosen_kind, "expected_money" if rec.chosen == "expected_money" else f"reserve {rec.reserve:g}")
    if lever == "rule":
        words = t("prov.lever.rule", rule=plan_name(rec.chosen, t))
    elif lever in ("deterministic", "expected_money"):
        words = t(f"prov.lever.{lever}")
    else:
        words = t("prov.lever.reserve", pct=t.number(100 * rec.reserve))
    record = rec.solve_record or ("deterministic" if rec.chosen_kind == "rule" else "own")
    return t("prov.plan", plan=rec.chosen, lever=words, record=t(f"prov.record.{record}"))


def provenance_html(runs: list[ScenarioRun], t: Catalogue = VI) -> str:
    """Where each figure comes from: folder, hashes, solver status and gap, seed."""
    rows = []
    for r in runs:
        m, s = r.manifest, r.contract
        gap = s.mip_gap
        seed = r.simulation["seed"] if r.simulation else "–"
        scen = str((m.get("scenario") or {}).get("hash", ""))[:12]
        data = str((m.get("data") or {}).get("hash", ""))[:12]
        record = f'<br><span class="plan-record">{html.escape(plan_record(r, t))}</span>'
        rows.append(f"<tr><td>{html.escape(r.name)}</td><td><code>{html.escape(str(r.folder))}</code></td>"
                    f"<td>{status_text(s, t)}{record}</td>"
                    f"<td>{'–' if gap is None or pd.isna(gap) else _pct(gap, t, 2)}</td>"
                    f"<td>{html.escape(s.solver)} {html.escape(s.solver_version)}</td>"
                    f"<td><code>{scen}</code></td><td><code>{data}</code></td><td>{seed}</td></tr>")
    head = "".join(f'<th scope="col">{html.escape(t(f"prov.{k}"))}</th>'
                   for k in ("scenario", "folder", "status", "gap", "solver", "scenario_hash", "data_hash", "seed"))
    return (f'<table class="ntm" id="provenance"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
            f'</table><p>{html.escape(t("prov.note"))}</p>')


def communes_frame(run: ScenarioRun, t: Catalogue = VI) -> pd.DataFrame:
    """The per-commune priorities of a run (:func:`~ntm_sim.analysis.compare.plannable`), by priority, as text.

    The priority counts the communes there is something to plan for (1, 2, …), the same number
    as on the page and in ``plan.xlsx``; money in tỷ đồng.
    """
    c = plannable(run)
    first = run.contract.years[0]
    year = [t("table.never") if pd.isna(v) else t("table.recognised") if v < first else str(int(v))
            for v in c["year_ntm"]]
    districts = district_names(c)
    out = pd.DataFrame({t("table.rank"): c["priority"].astype(int).to_numpy(),
                        t("table.commune"): c["commune_name"].astype(str).to_numpy(),
                        t("table.district"): districts.to_numpy(),
                        t("table.met"): c["criteria_met_baseline"].astype(int).to_numpy(),
                        t("table.money"): [t.number(v / 1000, 1) for v in c["cost_to_complete_mvnd"].astype(float)],
                        t("table.year"): year})
    if not districts.any():  # a province without districts (from 1 July 2025): no empty column
        out = out.drop(columns=t("table.district"))
    prob = commune_probability(run)
    if prob is not None:
        # beside the plan's year: how likely the commune really gets there (slips, overruns, disasters)
        p = c["commune_code"].astype(str).map(prob)
        out[t("table.chance", year=run.horizon)] = ["–" if pd.isna(v) else t.number(100 * v) for v in p]
    out[t("table.reason")] = c["reason_vi" if t.lang == "vi" else "reason_en"].astype(str).to_numpy()
    return out


def progress_alt(runs: list[ScenarioRun], t: Catalogue = VI) -> str:
    """What the progress chart shows, in one sentence per run (its text alternative)."""
    parts = []
    for run in runs:
        head = None if run.headline is None else run.headline.outcomes.get("communes_ntm")
        target = own_target(run, "communes_ntm")
        goal = "" if target is None else t("alt.target", target=t.number(target))
        if head is not None and head.median is not None:
            parts.append(t("alt.progress", name=run.name, year=run.horizon, median=t.number(head.median),
                           low=t.number(head.p5), high=t.number(head.p95),
                           paper=t.number(run.contract.communes_ntm), goal=goal))
        else:
            parts.append(t("alt.progress_paper", name=run.name, year=run.horizon,
                           paper=t.number(run.contract.communes_ntm), goal=goal))
    return " ".join(parts)


def risk_alt(runs: list[ScenarioRun], t: Catalogue = VI) -> str:
    """What the chance chart shows (its text alternative): each run's chance of its own target."""
    table = risk_table(runs)
    parts = [t("alt.risk_head")]
    for _, r in table.iterrows():
        run = next(x for x in runs if x.name == r["scenario"])
        target = own_target(run, "communes_ntm")
        if target is not None:
            parts.append(t("alt.risk", name=r["scenario"], target=t.number(target), p=_pct(r["p_target"], t)))
    return " ".join(parts)


def backtest_section(datasets: list[str], t: Catalogue | None = None,
                     width: int | None = 680) -> tuple[str, object] | None:
    """The backtest's section (HTML with a ``{chart}`` slot) and chart, when a run is on the bundled 2021–2025 data.

    The simulation of 2021–2024 against every public point (:mod:`ntm_sim.analysis.backtest`): what
    lets the committee judge the odds the other sections give. ``t``: the reader's language
    (Vietnamese by default); ``width``: the chart's (None: stretched, for the page).
    """
    from ntm_sim.analysis.backtest import PAPER, REPORT_DRAWS, bundled_backtest, chart_labels, shows_backtest
    from ntm_sim.present.plots import backtest_chart

    if not shows_backtest(datasets):
        return None
    t = t or VI
    result = bundled_backtest()
    chart = backtest_chart(result.table, chart_labels(t), width=width, t=t)
    rows = []
    table = result.table
    paper = table[table["settings"] == PAPER].set_index(["when", "measure"])["median"]
    for _, r in table[table["settings"] == "default"].iterrows():
        digits = 0 if r["count"] else 2
        rows.append(f'<tr><td>{html.escape(r["when"])}{"*" if r["role"] == "forecast" else ""}</td>'
                    f'<td>{html.escape(t("backtest." + r["measure"]))}</td>'
                    f'<td class="num">{html.escape(t.number(r["known"], digits))}</td>'
                    f'<td class="num">{html.escape(t.number(paper[(r["when"], r["measure"])], digits))}</td>'
                    f'<td class="num">{html.escape(t.number(r["median"], digits))}</td>'
                    f'<td class="num">{html.escape(t.number(r["p5"], digits))}–'
                    f'{html.escape(t.number(r["p95"], digits))}</td></tr>')
    head = "".join(f'<th scope="col">{html.escape(t("backtest.col." + c))}</th>'
                   for c in ("when", "measure", "known", "paper", "median", "band"))
    table = (f'<table class="ntm" id="backtest"><thead><tr>{head}</tr></thead><tbody>' + "".join(rows)
             + "</tbody></table>")
    text = (f'<h2>{html.escape(t("backtest.title"))}</h2><p>{html.escape(t("backtest.intro"))} '
            f'{html.escape(t("backtest.how", draws=t.number(REPORT_DRAWS)))}</p>'
            f'<p class="chart-alt">{html.escape(t("alt.backtest"))}</p>')
    return text + '<div class="chart">{chart}</div>' + table.replace("{", "{{").replace("}", "}}"), chart


def demo_label(runs: list[ScenarioRun], t: Catalogue = VI) -> str | None:
    """The demo-data label of the first run on demo data, if any (in English: the catalogue's)."""
    demo = next((r for r in runs if r.demo), None)
    if demo is None:
        return None
    return t("page.demo") if t.lang == "en" else demo.contract.demo_label


def criteria_names(run: ScenarioRun, t: Catalogue = VI) -> dict[str, str]:
    """The run's criteria by id, named in the reader's language."""
    return {c.id: (c.name_vi if t.lang == "vi" else c.name_en) for c in run_criteria(run).criteria}

