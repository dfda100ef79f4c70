"""Scenarios side by side, read back from their results folders.

A *run* is what ``ntm-sim solve`` wrote (``summary.json``, ``communes.csv``,
``manifest.json``) plus, when present, what ``ntm-sim simulate`` wrote into its
``simulation/`` subfolder. Everything here reads those files only, so a comparison shown
to the committee is traceable to the manifests behind it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.messages import Catalogue
from ntm_sim.model.contracts import Headline as HeadlineRecord
from ntm_sim.model.contracts import Recommendation as SearchRecord
from ntm_sim.model.contracts import SolveSummary
from ntm_sim.model.plan import FORMER_RECOMMENDED, RECOMMENDED

SIMULATION = "simulation"

VI, EN = Catalogue("vi"), Catalogue("en")  # the indicators' names: compare.<key> in the catalogue
# (key, Vietnamese label, English label, decimals)
INDICATORS: tuple[tuple[str, str, str, int], ...] = tuple(
    (key, VI(f"compare.{key}"), EN(f"compare.{key}"), decimals) for key, decimals in (
        ("communes_ntm", 0), ("new_communes_ntm", 0), ("advanced", 0), ("model", 0), ("district_units", 0),
        ("avg_criteria", 2), ("communes_below_floor", 0), ("villages_ntm_new", 0), ("villages_model_new", 0),
        ("total_cost_mvnd", 0), ("unspent_mvnd", 0), ("funding_gap_mvnd", 0)))
TARGET_KEYS = {"communes_ntm": "communes_ntm", "advanced": "advanced", "model": "model",
               "avg_criteria": "avg_criteria"}
# indicator → (outcome in the simulated headline, its target in the headline's targets)
SIMULATED = {"communes_ntm": ("communes_ntm", "communes_ntm"), "advanced": ("advanced", "advanced"),
             "model": ("model", "model"), "district_units": ("district_units", None),
             "avg_criteria": ("avg_criteria", "avg_criteria"), "communes_below_floor": ("below_floor", "min_criteria"),
             "villages_ntm_new": ("villages_ntm", "villages_ntm"),
             "villages_model_new": ("villages_model", "villages_model"),
             "total_cost_mvnd": ("spent", None), "unspent_mvnd": ("unspent", None)}


#: The tiers of results written before they carried their criteria set's own (Decision 318's).
OLD_TIERS = {slot: {"short_vi": VI(f"compare.old_tier.{slot}"), "short_en": EN(f"compare.old_tier.{slot}")}
             for slot in ("advanced", "model")}


def indicators_for(runs: list[ScenarioRun]) -> tuple[tuple[str, str, str, int], ...]:
    """:data:`INDICATORS` for these runs: tiers named after their criteria sets' own, absent ones left out.

    A tier row is named after the tiers the runs' criteria sets issue for it ("Xã NTM kiểu
    mẫu / hiện đại (thí điểm)" beside a 2021–2025 and a 2026–2030 run) and left out when
    none of them issues one (the advanced row for 2026–2030 runs alone); so is the
    district-unit row when no run's set recognises district units.
    """
    if not runs:
        return INDICATORS
    names: dict[str, list[tuple[str, str]]] = {"advanced": [], "model": []}
    for run in runs:
        tiers = run.contract.tiers
        shorts = ({slot: (t["short_vi"], t["short_en"]) for slot, t in OLD_TIERS.items()} if tiers is None else
                  {slot: (t.short_vi, t.short_en) for slot, t in tiers.items()})
        for slot, label in shorts.items():
            if slot in names and label not in names[slot]:
                names[slot].append(label)
    units = any(run.contract.district_units is not None for run in runs)
    out = []
    for key, vi, en, decimals in INDICATORS:
        if key in names:
            if not names[key]:
                continue
            vi = VI("compare.tier_row", tiers=" / ".join(v for v, _ in names[key]))
            en = EN("compare.tier_row", tiers=" / ".join(e for _, e in names[key]).capitalize())
        elif key == "district_units" and not units:
            continue
        out.append((key, vi, en, decimals))
    return tuple(out)


@dataclass
class ScenarioRun:
    """One scenario's results folder, read back.

    ``name`` is the folder's name (unique under a results root, so two folders solved
    from one scenario file stay two runs); :attr:`title` is what a planner reads.
    """

    name: str
    folder: Path
    summary: dict
    communes: pd.DataFrame
    manifest: dict
    simulation: dict | None = None
    sim_communes: pd.DataFrame | None = None  # P(NTM by each year) per plan and commune
    record: SolveSummary | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def contract(self) -> SolveSummary:
        """``summary.json`` as its model (:func:`ntm_sim.run.runs.load_run` keeps the one it read through)."""
        return self.record if self.record is not None else SolveSummary.model_validate(self.summary)

    @property
    def headline(self) -> HeadlineRecord | None:
        """What the simulation gives for the run's plan (None: a plan on paper only)."""
        return self.contract.headline

    @property
    def recommendation(self) -> SearchRecord | None:
        """The search that chose the plan (None: the optimum on paper, or min-cost)."""
        return self.contract.recommendation

    @property
    def demo(self) -> bool:
        """Whether the run is on demo data."""
        return self.contract.demo_data

    @property
    def horizon(self) -> int:
        """The last year of the plan."""
        return self.contract.years[-1]

    @property
    def title(self) -> str:
        """The scenario's title where the results hold one, else the folder's name."""
        scenario = self.manifest.get("scenario")
        for value in (self.contract.title, scenario.get("title") if isinstance(scenario, dict) else None):
            if isinstance(value, str) and value.strip():
                return value.strip()
        return self.name

    def display_title(self, lang: str = "vi") -> str:
        """The title in ``lang``: in English the scenario's ``title_en`` where it has one, else :attr:`title`."""
        if lang == "en":
            english = self.contract.title_en or _scenario_key(Path(self.folder), "title_en")
            if isinstance(english, str) and english.strip():
                return english.strip()
        return self.title


def _scenario_key(folder: Path, key: str) -> object:
    """A key of the scenario a results folder keeps (``scenario.yaml``), or None."""
    import yaml

    try:
        data = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data.get(key) if isinstance(data, dict) else None


def plannable_rows(communes: pd.DataFrame, first: int) -> pd.DataFrame:
    """The rows of a commune table (``communes.csv``) there is something to plan for, by rank, with ``priority``.

    A commune counted NTM before the year ``first`` and meeting every criterion is left out; one
    recognised but short of criteria of the set in force stays (keeping the standard competes
    for the same money), and so does every other. ``priority`` numbers the rows kept 1, 2, …
    in the order of ``rank``: the page, the report and ``plan.xlsx`` show this one number.
    """
    c = communes
    if "year_ntm" in c:
        short = c["cost_to_complete_mvnd"].astype(float) > 0 if "cost_to_complete_mvnd" in c else False
        c = c[c["year_ntm"].isna() | (c["year_ntm"] >= first) | short]
    c = c.sort_values("rank", kind="stable")
    return c.assign(priority=range(1, len(c) + 1))


def plannable(run: ScenarioRun) -> pd.DataFrame:
    """The rows of a run's ``communes.csv`` there is something to plan for (:func:`plannable_rows`)."""
    return plannable_rows(run.communes, run.contract.years[0])


def run_criteria(run: ScenarioRun) -> CriteriaSet:
    """The criteria set a run was solved under (its ``summary.json``; Decision 318 for older folders)."""
    from ntm_sim.data.criteria import DEFAULT_CRITERIA_SET, available_sets, load_criteria_set

    wanted = run.contract.criteria_set or DEFAULT_CRITERIA_SET
    return load_criteria_set(wanted if wanted in available_sets() else DEFAULT_CRITERIA_SET)


def district_names(communes: pd.DataFrame) -> pd.Series:
    """Each commune's district as written in ``communes.csv``; "" where it has none (districts ended 1 July 2025)."""
    d = communes["district"].astype(object)  # all blank: read as float, which "" cannot fill
    return d.where(d.notna(), "").astype(str).str.strip()


def labelled(runs: list[ScenarioRun], lang: str = "vi") -> list[ScenarioRun]:
    """The runs named for reading: each run's title in ``lang`` (:meth:`~ScenarioRun.display_title`), made unique.

    Two runs with one title get their folder's name beside it (``title (folder)``);
    if even that is shared (runs from two results roots), the folder's full path. No
    two columns of a comparison carry one name, and a run keeps its place in the list.
    """
    titles = [r.display_title(lang) for r in runs]
    labels = list(titles)
    labels = [f"{title} ({r.name})" if labels.count(labels[i]) > 1 and title != r.name else labels[i]
              for i, (r, title) in enumerate(zip(runs, titles, strict=True))]
    labels = [f"{title} ({r.folder})" if labels.count(labels[i]) > 1 else labels[i]
              for i, (r, title) in enumerate(zip(runs, titles, strict=True))]
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):  # titles made to look like another's "title (folder)": numbered
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            labels[i] = f"{label} #{seen[label]}"
    return [dataclasses.replace(run, name=label) for run, label in zip(runs, labels, strict=True)]


def own_targets(run: ScenarioRun) -> dict[str, float]:
    """The run's own targets by key (its scenario's, as its ``summary.json`` records them)."""
    return {k: float(v.target) for k, v in run.contract.targets.items()}


def commune_probability(run: ScenarioRun, plan: str = RECOMMENDED) -> pd.Series | None:
    """Simulated probability that each commune is NTM at the horizon under ``plan`` (by commune code)."""
    if run.sim_communes is None:
        return None
    column = f"p_ntm_{run.horizon}"
    rows = run.sim_communes[run.sim_communes["plan"] == plan]
    if column not in rows or rows.empty:
        return None
    return rows.set_index("commune_code")[column].astype(float)


def _value(record: SolveSummary, key: str) -> float:
    v = getattr(record, key, None)
    if isinstance(v, list):  # district units are listed by code
        return float(len(v))
    return float("nan") if v is None else float(v)


@dataclass(frozen=True)
class Headline:
    """One indicator of one run as the committee reads it.

    ``value`` is the simulated median when the run has a simulation (with ``low`` and
    ``high`` the 5–95% band), else the figure on paper; ``paper`` is the figure if every
    cost, date and disbursement goes as planned; ``probability`` the chance of reaching
    the indicator's target and ``met`` whether it reaches the scenario's confidence
    (None: no target, or no simulation).
    """

    value: float
    low: float | None = None
    high: float | None = None
    paper: float | None = None
    probability: float | None = None
    met: bool | None = None
    simulated: bool = False


def headline_of(run: ScenarioRun, key: str) -> Headline:
    """The headline of indicator ``key`` for a run (see :class:`Headline`)."""
    paper = _value(run.contract, key)
    h = run.headline
    if h is None or key not in SIMULATED:
        return Headline(value=paper, paper=paper)
    outcome, target = SIMULATED[key]
    o = h.outcomes.get(outcome)
    if o is None:
        return Headline(value=paper, paper=paper)
    t = h.targets.get(target) if target else None
    return Headline(value=float(o.median), low=float(o.p5), high=float(o.p95),
                    paper=float(paper if o.deterministic is None else o.deterministic),
                    probability=None if t is None else float(t.probability),
                    met=None if t is None else bool(t.met), simulated=True)


def confidence_of(runs: list[ScenarioRun]) -> float | None:
    """The confidence level a target's probability must reach (the first simulated run's)."""
    return next((float(r.headline.confidence) for r in runs if r.headline is not None), None)


def indicator_table(runs: list[ScenarioRun]) -> pd.DataFrame:
    """Headline indicators of each run's plan: one row per indicator, one column per run.

    Values are the simulated medians where the run has a simulation, else the figures on
    paper (see :func:`headline_of`). Columns: ``indicator``, ``label_vi``, ``label_en``,
    ``decimals``, ``target`` (the first run's target, if its scenario sets one) and one
    column per run name.
    """
    rows = []
    for key, vi, en, dec in indicators_for(runs):
        row: dict = {"indicator": key, "label_vi": vi, "label_en": en, "decimals": dec, "target": float("nan")}
        for run in runs:
            row[run.name] = headline_of(run, key).value
            t = run.contract.targets.get(TARGET_KEYS.get(key, ""))
            if t is not None and pd.isna(row["target"]):
                row["target"] = float(t.target)
        rows.append(row)
    return pd.DataFrame(rows)


def ntm_by_year(runs: list[ScenarioRun], *, baselines: bool = True) -> pd.DataFrame:
    """Communes NTM by year for each run's optimum (and its baseline rules): a tidy table.

    Columns: ``scenario``, ``plan``, ``plan_vi``, ``year``, ``communes_ntm``.
    """
    rows = []
    for run in runs:
        record = run.contract
        plans = [(RECOMMENDED, PLAN_VI, record.communes_ntm_by_year)]
        if baselines:
            plans += [(name, b.get("name_vi", name), b["communes_ntm_by_year"]) for name, b in record.baselines.items()]
        for plan, plan_vi, by_year in plans:
            for year, n in by_year.items():
                rows.append({"scenario": run.name, "plan": plan, "plan_vi": plan_vi, "year": int(year),
                             "communes_ntm": int(n)})
    return pd.DataFrame(rows, columns=["scenario", "plan", "plan_vi", "year", "communes_ntm"])


PLAN_VI = VI("plan.recommended")  # the page's own name of the recommended plan


def baseline_table(runs: list[ScenarioRun]) -> pd.DataFrame:
    """Communes NTM by the horizon: the recommended plan and each plan beside it, per run.

    Columns: ``scenario``, ``plan``, ``plan_vi``, ``communes_ntm`` (on paper),
    ``total_cost_mvnd``, ``recommended_gain`` (communes the recommended plan reaches beyond
    that plan, on paper), ``sim_mean`` (simulated mean, when simulated) and ``gain``,
    ``gain_low``, ``gain_high`` (the recommended plan's simulated gain over that plan on
    the same draws, with its 95% interval, when the run has one).
    """
    nan = float("nan")
    rows = []
    for run in runs:
        record = run.contract
        best = record.communes_ntm
        plans = (run.simulation or {}).get("plans", {})
        rec = record.recommendation
        comparison = {} if rec is None else rec.comparison

        def sim_mean(plan: str, plans: dict = plans) -> float:
            o = plans.get(plan, {}).get("outcomes", {}).get("communes_ntm")
            return float(o["mean"]) if o else nan

        rows.append({"scenario": run.name, "plan": RECOMMENDED, "plan_vi": PLAN_VI, "communes_ntm": best,
                     "total_cost_mvnd": record.total_cost_mvnd, "recommended_gain": 0,
                     "sim_mean": sim_mean(RECOMMENDED), "gain": 0.0, "gain_low": 0.0, "gain_high": 0.0})
        for name, b in record.baselines.items():
            c = comparison.get(name) if rec is not None and name != rec.chosen else None
            gain = (nan, nan, nan) if c is None else tuple(
                nan if v is None else v for v in (c.diff_mean, c.diff_low, c.diff_high))
            rows.append({"scenario": run.name, "plan": name, "plan_vi": b.get("name_vi", name),
                         "communes_ntm": int(b["communes_ntm"]), "total_cost_mvnd": float(b["total_cost_mvnd"]),
                         "recommended_gain": best - int(b["communes_ntm"]), "sim_mean": sim_mean(name),
                         "gain": gain[0], "gain_low": gain[1], "gain_high": gain[2]})
    return pd.DataFrame(rows)


def risk_table(runs: list[ScenarioRun], plan: str = RECOMMENDED) -> pd.DataFrame:
    """Simulated spread of communes NTM and the chance of each target, per run with a simulation.

    Columns: ``scenario``, ``draws``, ``mean``, ``p5``, ``p95`` (communes NTM by the horizon),
    ``p_target`` (probability of reaching the communes target), ``p_all`` (all targets
    together) and ``failure_vi`` (scenario discovery in plain words).
    """
    rows = []
    for run in runs:
        sim = run.simulation
        if not sim or plan not in sim.get("plans", {}):
            continue
        p = sim["plans"][plan]
        o = p["outcomes"]["communes_ntm"]
        probs = p.get("target_probabilities", {})
        rows.append({"scenario": run.name, "draws": int(sim["draws"]), "seed": int(sim["seed"]),
                     "mean": float(o["mean"]), "p5": float(o["p5"]), "p95": float(o["p95"]),
                     "p_target": probs.get("communes_ntm", float("nan")),
                     "p_all": probs.get("all_targets", float("nan")),
                     "failure_vi": p.get("scenario_discovery", {}).get("text_vi", "")})
    return pd.DataFrame(rows, columns=["scenario", "draws", "seed", "mean", "p5", "p95", "p_target", "p_all",
                                       "failure_vi"])


def threshold_curves(runs: list[ScenarioRun], plan: str = RECOMMENDED) -> pd.DataFrame:
    """P(communes NTM ≥ k) for each run with a simulation: columns ``scenario``, ``k``, ``probability``."""
    rows = []
    for run in runs:
        sim = run.simulation
        if not sim or plan not in sim.get("plans", {}):
            continue
        for k, prob in sim["plans"][plan]["communes_ntm_at_least"].items():
            rows.append({"scenario": run.name, "k": int(k), "probability": float(prob)})
    return pd.DataFrame(rows, columns=["scenario", "k", "probability"])


def in_scenario_order(runs: list[ScenarioRun], order: list[str] | None = None) -> list[ScenarioRun]:
    """Runs in the order of their scenario folder (``order.txt``, :func:`ntm_sim.model.scenario_folder.folder_order`).

    ``order``: the scenario names in order (default: the order of the folder the first run's
    scenario file lies in, as its manifest names it). Runs of scenarios not in it (a variant
    made on the page) follow in the list's own order (a results root is scanned by folder name, and
    a run the page adds comes last).
    """
    from ntm_sim.model.scenario_folder import folder_order

    if order is None:
        order = []
        for run in runs:
            file = (run.manifest.get("scenario") or {}).get("file")
            if isinstance(file, str) and file and Path(file).parent.is_dir():
                order = folder_order(Path(file).parent)
                break
    place = {name: i for i, name in enumerate(order)}

    def key(run: ScenarioRun) -> int:
        return place.get(str(run.summary.get("scenario") or ""), place.get(Path(run.folder).name, len(place)))

    return sorted(runs, key=key)  # stable: equals keep the list's order


def reference_of(run: ScenarioRun, runs: list[ScenarioRun]) -> ScenarioRun | None:
    """The run ``run`` is compared with: the first of ``runs`` on the same data and years, if not itself.

    With runs in the scenario folder's order, the 2021–2025 variants are compared with the
    baseline, and a 2026–2030 variant with the 2026–2030 scenario; the first of each is the
    reference of the others and has none.
    """
    same = [r for r in runs if (r.contract.dataset, r.contract.years) == (run.contract.dataset, run.contract.years)]
    return same[0] if same and same[0].folder != run.folder else None


def ntm_band_by_year(run: ScenarioRun, plan: str = RECOMMENDED) -> pd.DataFrame | None:
    """The simulated communes NTM of ``plan`` year by year: ``year``, ``median``, ``p5``, ``p95``.

    Read from ``simulation/outcomes.csv`` (one row per plan and draw, a ``ntm_<year>`` column
    per year); None for a run without a simulation, or one written before those columns.
    """
    path = Path(run.folder) / SIMULATION / "outcomes.csv"
    if run.simulation is None or not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, usecols=lambda c: c == "plan" or str(c).startswith("ntm_"))
    except (OSError, ValueError):
        return None
    rows = frame[frame["plan"].replace({FORMER_RECOMMENDED: RECOMMENDED}) == plan]  # format 1 said "optimum"
    years = [c for c in rows.columns if c.startswith("ntm_") and c[4:].isdigit()]
    if rows.empty or not years:
        return None
    values = rows[years].to_numpy(dtype=float)
    return pd.DataFrame({"year": [int(c[4:]) for c in years], "median": np.median(values, axis=0),
                         "p5": np.percentile(values, 5, axis=0), "p95": np.percentile(values, 95, axis=0)})
