"""Speed and quality of the optimizer on Lào Cai and on a synthetic country, against the rules.

Run by hand (no timed assertions; this machine is noisy)::

    .venv/bin/python benchmarks/bench_optimize.py [--national-communes 8000] [--time-limit 100]
                                                  [--national-scenario max-communes|plan] [--skip-laocai]

Two instances:

* **Lào Cai**: the bundled demo data with ``scenarios/baseline.yaml`` (max-achievement,
  enforced targets, absorption limit), as ``ntm-sim solve`` runs it;
* **national**: :func:`ntm_sim.data.synthetic.national_dataset` (63 provinces, about 700
  districts, ``--national-communes`` communes; synthetic data), 2021–2025 with money
  carried over and no absorption limit. ``max-communes`` (the default) enforces no
  target: as many communes NTM as the money allows, then the default tie-breakers
  (district units, tiers, criteria met, earliness, cost). ``plan`` also enforces the
  Lào Cai plan's kinds of targets scaled to the country (no commune below 10 criteria,
  an average of 17.3, income and poverty met in 76% of communes, 16% advanced, 7% model).

For each it prints the instance and model size, where the time goes (instance, the
three baseline rules, model build, HiGHS load, each stage), each stage's termination,
bound and gap, the time to prove the headline stage (communes NTM) optimal, and the
communes the optimum reaches against each baseline rule. Times are given in seconds
and as multiples of the planners' rule heuristic on the same instance, timed in the
same process (best of three); communes as optimum / rule ratios.

Goals (2 cores): Lào Cai proven optimal in under 5 s; national within 1% gap in under
120 s.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from timing import best_of, timed  # noqa: E402

from ntm_sim.data.dataset import Dataset  # noqa: E402
from ntm_sim.data.registry import load_dataset  # noqa: E402
from ntm_sim.data.synthetic import national_dataset  # noqa: E402
from ntm_sim.model.instance import build_instance  # noqa: E402
from ntm_sim.model.scenario import Scenario, load_scenario  # noqa: E402
from ntm_sim.optimize import SolveResult, solve  # noqa: E402
from ntm_sim.optimize.baselines import RULES, planners_rule  # noqa: E402
from ntm_sim.optimize.model import build_model  # noqa: E402
from ntm_sim.optimize.solver import make_backend  # noqa: E402

GOAL_LAOCAI_S = 5.0
GOAL_NATIONAL_S = 120.0
GOAL_NATIONAL_GAP = 0.01




def national_scenario(ds: Dataset, kind: str, time_limit: float) -> Scenario:
    """The national scenario: pure max-communes, or the plan's kinds of targets scaled."""
    spec: dict = {
        "name": f"national_{kind}",
        "title": "Cả nước giả định 2021–2025 (dữ liệu tổng hợp)",
        "years": (2021, 2025),
        "mode": "max-achievement",
        "budget": {"carry_over": True, "absorption_limit_mvnd": None},
        "solver": {"time_limit_s": time_limit},
    }
    if kind == "plan":
        n = len(ds.communes)
        spec["targets"] = {
            "advanced": round(0.16 * n), "model": round(0.07 * n), "min_criteria": 10, "avg_criteria": 17.3,
            "criterion_communes": {"TC10": round(0.76 * n), "TC11": round(0.76 * n)},
        }
        spec["enforce"] = ["min_criteria", "avg_criteria", "criterion_communes", "advanced", "model"]
    return Scenario.model_validate(spec)


def headline_seconds(result: SolveResult) -> tuple[float | None, str]:
    """Seconds from the start of solve() until the communes stage is proven optimal, and a note."""
    elapsed = result.build_s
    for s in result.stages:
        elapsed += s.runtime_s
        if s.name == "communes_ntm":
            if s.proven_optimal:
                return elapsed, "proven optimal"
            return None, f"not proven: {s.termination}, gap {fmt_gap(s.mip_gap)} after {elapsed:.1f} s"
    return None, "no communes stage"


def fmt_gap(gap: float) -> str:
    """A gap as a percentage, or '?' when unknown."""
    if gap is None or math.isnan(gap):
        return "?"
    return f"{gap:.2%}" if gap < 10 else ">999%"


def fmt_num(x: float) -> str:
    """A stage objective or bound."""
    if x is None or math.isnan(x):
        return "?"
    x = x + 0.0  # no "-0"
    return f"{round(x):,}" if abs(x - round(x)) < 1e-6 else f"{x:,.2f}"


def run(label: str, ds: Dataset, scenario: Scenario, time_limit: float) -> dict:
    """Time every part of a solve on one instance and print the figures."""
    print(f"\n== {label} ==")
    print(f"   data: {ds.meta.title} ({'demo/synthetic data' if ds.meta.demo else 'real data'}); "
          f"scenario {scenario.name}, {scenario.mode}, enforced: {', '.join(scenario.enforce) or 'none'}")
    t_inst, inst = timed(lambda: build_instance(ds, scenario))
    unit = best_of(3, lambda: planners_rule(inst))  # the reference: the planners' rule heuristic
    t_rules = {name: best_of(1, lambda rule=rule: rule(inst)) for name, rule in RULES.items()}
    # as solve() builds it first: the rows keeping tiers in order in time are added only if its plan breaks it
    t_model, model = timed(lambda: build_model(inst, tier_order=False))
    t_load, _ = timed(lambda: make_backend("highs", model))
    n_open = int((~inst.base_ntm).sum())
    print(f"   size: {inst.n_communes:,} communes ({n_open:,} not NTM), {len(inst.districts):,} districts, "
          f"{len(inst.sources):,} sources, {len(inst.classes):,} eligibility classes, {inst.n_projects:,} projects")
    print(f"   model: {model.n_cols:,} columns ({model.n_integer:,} integer), {model.n_rows:,} rows, "
          f"{model.matrix.nnz:,} nonzeros; {len(model.y):,} communes in completion-year form, "
          f"{len(model.x):,} projects in start-year form")
    print(f"   reference unit: planners' rule heuristic = {unit:.3f} s (best of 3)")

    def line(name: str, seconds: float) -> None:
        print(f"   {name:<28}{seconds:9.3f} s {seconds / unit:9.1f} ×")

    line("build instance", t_inst)
    for name, t in t_rules.items():
        line(f"rule {name}", t)
    line("build model (arrays)", t_model)
    line("load into HiGHS", t_load)

    t_total, result = timed(lambda: solve(ds, scenario, time_limit=time_limit))
    assert isinstance(result, SolveResult)
    line("solve(): build", result.build_s)
    print(f"   {'stage':<16}{'termination':<13}{'objective':>13}{'bound':>13}{'gap':>9}{'seconds':>10}{'× rule':>9}")
    for s in result.stages:
        print(f"   {s.name:<16}{s.termination.value:<13}{fmt_num(s.objective):>13}{fmt_num(s.bound):>13}"
              f"{fmt_gap(s.mip_gap):>9}{s.runtime_s:10.2f}{s.runtime_s / unit:9.1f}")
    line("solve(): total wall", t_total)
    head_s, note = headline_seconds(result)
    if head_s is not None:
        print(f"   headline (communes NTM) proven optimal after {head_s:.2f} s = {head_s / unit:.1f} × rule "
              "(solve() build + stages up to communes_ntm)")
    else:
        print(f"   headline (communes NTM): {note}")
    main = [s for s in result.stages if s.name in ("targets", "communes_ntm", "district_units", "tiers")]
    if main and all(s.proven_optimal for s in main):
        main_s = result.build_s + sum(s.runtime_s for s in result.stages[:len(main)])
        print(f"   main stages ({', '.join(s.name for s in main)}) proven optimal after {main_s:.2f} s "
              f"= {main_s / unit:.1f} × rule")
    open_stages = [s.name for s in result.stages if not s.proven_optimal]
    print(f"   every stage proven optimal: {'yes' if not open_stages else 'no (' + ', '.join(open_stages) + ')'}"
          f" in {t_total:.1f} s")
    o = result.plan.outcomes
    at_start = int(inst.base_ntm.sum())
    parts = []
    for name, plan in result.baselines.items():
        b = plan.outcomes.communes_ntm
        parts.append(f"{name} {b:,} ({o.communes_ntm / b:.3f}×, +{o.communes_ntm - b:,})")
    print(f"   communes NTM by {int(inst.years[-1])}: optimum {o.communes_ntm:,} (at the start {at_start:,}); "
          + "; ".join(parts))
    gains = {name: (o.communes_ntm - at_start) / max(1, p.outcomes.communes_ntm - at_start)
             for name, p in result.baselines.items()}
    print("   communes gained over the start, optimum / rule: "
          + ", ".join(f"{name} {g:.2f}×" for name, g in gains.items()))
    primary = result.primary
    return {"label": label, "total_s": t_total, "headline_s": head_s, "gap": primary.mip_gap,
            "proven": result.proven_optimal, "headline_note": note, "unit": unit}


def prove_headline(ds: Dataset, scenario: Scenario, time_limit: float, unit: float) -> None:
    """Solve the communes stage alone (no tie-breakers) until proven optimal or out of time."""
    sc = scenario.with_(objective={"order": ["communes_ntm"]})
    t_total, result = timed(lambda: solve(ds, sc, time_limit=time_limit))
    assert isinstance(result, SolveResult)
    s = result.primary
    print(f"   communes stage alone, {time_limit:.0f} s allowed: {s.termination.value}, {fmt_num(s.objective)} "
          f"communes, bound {fmt_num(s.bound)}, gap {fmt_gap(s.mip_gap)}, "
          f"{t_total:.1f} s in all = {t_total / unit:.1f} × rule")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--national-communes", type=int, default=8000)
    parser.add_argument("--national-provinces", type=int, default=63)
    parser.add_argument("--national-scenario", choices=("max-communes", "plan"), default="max-communes")
    parser.add_argument("--time-limit", type=float, default=100.0,
                        help="solve() time limit in seconds, for all stages together (default 100)")
    parser.add_argument("--prove-headline", type=float, default=0.0, metavar="S",
                        help="also solve the national communes stage alone for up to S seconds (default: skip)")
    parser.add_argument("--skip-laocai", action="store_true")
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--threads", type=int, default=None,
                        help="HiGHS threads (default: the scenario's, one unless it says otherwise)")
    args = parser.parse_args(argv)

    def threaded(sc: Scenario) -> Scenario:
        return sc if args.threads is None else sc.with_(solver={**sc.solver.model_dump(), "threads": args.threads})
    print(f"bench_optimize: {os.cpu_count()} cores, highspy {version('highspy')}, numpy {np.__version__}, "
          f"HiGHS threads {args.threads or 'as the scenario says (default 1)'}")
    out = []
    if not args.skip_laocai:
        out.append(run("Lào Cai", load_dataset("lao_cai"),
                       threaded(load_scenario(ROOT / "scenarios" / "baseline.yaml")), args.time_limit))
    if not args.skip_national:
        t_gen, ds = timed(lambda: national_dataset(args.national_provinces, args.national_communes))
        print(f"\n(synthetic country generated in {t_gen:.2f} s)")
        sc = threaded(national_scenario(ds, args.national_scenario, args.time_limit))
        out.append(run(f"national ({args.national_scenario})", ds, sc, args.time_limit))
        if args.prove_headline > 0:
            prove_headline(ds, sc, args.prove_headline, out[-1]["unit"])
    print("\n== goals ==")
    for r in out:
        if r["label"] == "Lào Cai":
            head = r["headline_s"]
            print(f"   Lào Cai headline proven optimal in under {GOAL_LAOCAI_S:.0f} s: "
                  f"{'MET' if head is not None and head < GOAL_LAOCAI_S else 'NOT MET'} "
                  f"({r['headline_note']}{f', {head:.2f} s' if head is not None else ''})")
            print(f"   Lào Cai every stage (tie-breakers too) proven optimal in under {GOAL_LAOCAI_S:.0f} s: "
                  f"{'MET' if r['proven'] and r['total_s'] < GOAL_LAOCAI_S else 'NOT MET'} "
                  f"({'all proven' if r['proven'] else 'not all proven'}, {r['total_s']:.1f} s)")
        else:
            ok = r["total_s"] < GOAL_NATIONAL_S and not math.isnan(r["gap"]) and r["gap"] <= GOAL_NATIONAL_GAP
            print(f"   national within {GOAL_NATIONAL_GAP:.0%} gap in under {GOAL_NATIONAL_S:.0f} s: "
                  f"{'MET' if ok else 'NOT MET'} (gap {fmt_gap(r['gap'])}, {r['total_s']:.1f} s)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
