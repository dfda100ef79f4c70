"""Speed of the Monte Carlo engine on the Lào Cai plan, against the plain-loop reference.

Run by hand (no timed assertions; this machine is noisy)::

    .venv/bin/python benchmarks/bench_simulate.py [--draws 10000] [--reference-draws 100] [--no-optimum]

For each plan (the planners' rule and, unless ``--no-optimum``, the optimizer's plan
after a 30 s solve) over the 5-year baseline scenario it prints

* end to end: ``simulate()`` for ``--draws`` draws (sampling, random numbers, engine,
  assembly), best of ``--repeat`` runs;
* engine only: ``Engine.run`` on random numbers drawn beforehand, block by block;
* the reference loop (``tests/reference_sim.py``) on the first ``--reference-draws``
  draws of the same block, scaled per draw, after checking it gives the engine's numbers;

and whether the goals of issue 21 are met: 10,000 draws end to end in under 0.5 s, and
at least 300× the reference loop; each figure with the machine's load when it was taken
(and the CPU seconds, which a busy machine inflates less than the wall time).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from timing import best_of, load, verdict  # noqa: E402

from ntm_sim.data.registry import load_dataset  # noqa: E402
from ntm_sim.model.instance import Instance, build_instance  # noqa: E402
from ntm_sim.model.plan import Decisions, make_plan  # noqa: E402
from ntm_sim.model.scenario import load_scenario  # noqa: E402
from ntm_sim.optimize import solve  # noqa: E402
from ntm_sim.optimize.baselines import planners_rule  # noqa: E402
from ntm_sim.simulate import BLOCK, UncertaintySettings, sample_experiments, simulate  # noqa: E402
from ntm_sim.simulate.blocks import draw_block  # noqa: E402
from ntm_sim.simulate.engine import Engine  # noqa: E402
from reference_sim import reference_run  # noqa: E402

GOAL_SECONDS = 0.5
GOAL_RATIO = 300.0



def engine_only(inst: Instance, dec: Decisions, settings: UncertaintySettings, n_draws: int, seed: int,
                repeat: int) -> float:
    """Seconds for ``Engine.run`` over ``n_draws`` draws, random numbers drawn beforehand."""
    exp = sample_experiments(settings, n_draws, "mc", seed)
    sizes = [BLOCK] * (n_draws // BLOCK) + ([n_draws % BLOCK] if n_draws % BLOCK else [])
    bounds = np.cumsum([0, *sizes])
    blocks = []
    for b, size in enumerate(sizes):
        params = {name: exp[name].to_numpy()[bounds[b]:bounds[b + 1]] for name in settings.PARAMETERS}
        blocks.append((params, draw_block(inst, size, np.random.SeedSequence([seed, 1, b]))))

    def run() -> None:
        engine = Engine(inst, dec, settings)
        for params, rnd in blocks:
            engine.run(params, rnd)

    return best_of(repeat, run)


def reference_per_draw(inst: Instance, dec: Decisions, settings: UncertaintySettings, n_draws: int,
                       seed: int) -> tuple[float, bool]:
    """Seconds per draw of the reference loop, and whether it agrees with the engine."""
    exp = sample_experiments(settings, n_draws, "mc", seed)
    params = {name: exp[name].to_numpy() for name in settings.PARAMETERS}
    rnd = draw_block(inst, BLOCK, np.random.SeedSequence([seed, 1, 0])).take(slice(0, n_draws))
    start = time.perf_counter()
    ref = reference_run(inst, dec, settings, params, rnd)
    seconds = time.perf_counter() - start
    eng = Engine(inst, dec, settings).run(params, rnd)
    same = (np.array_equal(eng.ntm_by_year, ref["ntm_by_year"])
            and np.array_equal(eng.criterion_communes, ref["criterion_communes"])
            and np.array_equal(eng.slipped_projects, ref["slipped_projects"])
            and np.allclose(eng.spent, ref["spent"], rtol=1e-9))
    return seconds / n_draws, same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--reference-draws", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-optimum", action="store_true", help="skip the optimizer's plan (a 30 s solve)")
    args = parser.parse_args()

    ds = load_dataset("lao_cai")
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    inst = build_instance(ds, scenario)
    plans = {"planners_rule": make_plan(inst, planners_rule(inst), "planners_rule").decisions}
    if not args.no_optimum:
        start = time.perf_counter()
        result = solve(ds, scenario, time_limit=30, baselines=False)
        print(f"optimizer: {time.perf_counter() - start:.1f} s ({result.termination})")
        plans["optimum"] = result.plan.decisions
    settings = UncertaintySettings()
    print(f"Lào Cai, {inst.n_communes} communes, {inst.n_years} years, {len(inst.sources)} sources, "
          f"{len(inst.classes)} classes; default uncertainty; {args.draws:,} draws, best of {args.repeat}")
    for name, dec in plans.items():
        items = Engine(inst, dec, settings).items
        simulate(inst, {"plan": dec}, settings, n_draws=1000, seed=args.seed)  # compiled kernels loaded
        cpu0 = time.process_time()
        total = best_of(args.repeat, lambda dec=dec: simulate(inst, {"plan": dec}, settings, n_draws=args.draws,
                                                              seed=args.seed))
        total_cpu = (time.process_time() - cpu0) / args.repeat
        total_load = load()
        cpu0 = time.process_time()
        engine = engine_only(inst, dec, settings, args.draws, args.seed, args.repeat)
        engine_cpu = (time.process_time() - cpu0) / args.repeat
        engine_load = load()
        ref, same = reference_per_draw(inst, dec, settings, args.reference_draws, args.seed)
        ref_load = load()
        print(f"\n{name} ({len(items)} items)")
        print(f"  end to end  : {total:6.2f} s for {args.draws:,} draws = {args.draws / total:9,.0f} draws/s, "
              f"{ref / (total / args.draws):6.0f}× the reference (mean CPU {total_cpu:.2f} s; {total_load})")
        print(f"  engine only : {engine:6.2f} s for {args.draws:,} draws = {args.draws / engine:9,.0f} draws/s, "
              f"{ref / (engine / args.draws):6.0f}× the reference (mean CPU {engine_cpu:.2f} s; {engine_load})")
        print(f"  reference   : {ref * 1e3:6.2f} ms per draw ({args.reference_draws} draws timed; "
              f"{'same numbers as the engine' if same else 'DIFFERENT numbers from the engine'}; {ref_load})")
        scale = 10_000 / args.draws
        for label, seconds, at in (("end to end", total, total_load), ("engine only", engine, engine_load)):
            per_10k = seconds * scale
            ratio = ref / (seconds / args.draws)
            print(f"  goals, {label:11}: 10,000 draws in {per_10k:.2f} s < {GOAL_SECONDS} s: "
                  f"{verdict(per_10k, GOAL_SECONDS)}; {ratio:.0f}× ≥ {GOAL_RATIO:.0f}×: "
                  f"{verdict(ratio, GOAL_RATIO, at_least=True)} ({at})")


if __name__ == "__main__":
    main()
