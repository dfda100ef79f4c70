"""The recommended plan for Lào Cai: how long it takes, and what it gains over every rule.

Run by hand (no timed assertions; this machine is noisy)::

    .venv/bin/python benchmarks/bench_robust.py [--scenario baseline pessimistic] [--seed 0]

For each scenario it runs the shipped search (``scenario.robustness``: the reserve
levels, the expected-money plan, 1,000 weight draws, 1,000 training draws, 2,000 fresh
draws) and prints

* the time to the recommended plan, split into weights, solves, training and judging,
  against the goal (under 60 s on this 2-core machine), and as a multiple of the
  deterministic optimum's solve measured in the same process;
* every candidate's training score, and on the fresh draws the recommended plan's mean
  gain over each rule and over the deterministic optimum (value of the stochastic
  solution), with 95% intervals from the paired draws, and its gain in P(target);
* the lower bound on the expected value of perfect information (best candidate per draw).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from timing import timed  # noqa: E402

from ntm_sim.analysis.recommend import recommend  # noqa: E402
from ntm_sim.model.scenario import load_scenario  # noqa: E402
from ntm_sim.optimize import solve  # noqa: E402
from ntm_sim.run.workflow import scenario_dataset  # noqa: E402
from ntm_sim.text import format_number_vi as fmt  # noqa: E402

GOAL_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", nargs="+", default=["baseline", "pessimistic"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name in args.scenario:
        sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        ds = scenario_dataset(sc)  # the scenario's own data (lao_cai_2026 for 2026–2030)
        det_s, _ = timed(lambda sc=sc, ds=ds: solve(ds, sc))
        total, rec = timed(lambda sc=sc, ds=ds: recommend(ds, sc, seed=args.seed))
        print(f"\n== {name}: recommended plan in {total:.1f} s ({total / det_s:.1f}× the deterministic solve, "
              f"{det_s:.1f} s); goal < {GOAL_SECONDS:.0f} s: {'met' if total < GOAL_SECONDS else 'NOT met'}")
        print("   " + ", ".join(f"{k} {v:.1f} s" for k, v in rec.timings.items()))
        print(f"   chosen: {rec.chosen} (objective {rec.objective}); training scores:")
        for plan, row in rec.training.iterrows():
            print(f"     {plan:<16} planned {row['planned_communes']:>4}  mean {row['mean']:6.2f}  "
                  f"P(target) {row['p_target']:.3f}  reserve list {row['reserve_projects']}")
        print(f"   fresh draws ({rec.fresh.n_draws}, seed {rec.seed}): recommended mean "
              f"{rec.comparison.loc[rec.chosen, 'mean']:.2f}")
        for plan, row in rec.comparison.iterrows():
            if plan == rec.chosen or rec.candidates[plan].kind == "expected":
                continue
            line = (f"     vs {plan:<16} {row['mean']:6.2f}  gain {row['diff_mean']:+.2f} "
                    f"[{row['diff_low']:+.2f}, {row['diff_high']:+.2f}]")
            if "diff_p_target" in row:
                line += (f"  P(target) {row['p_target']:.3f}, gain {row['diff_p_target']:+.3f} "
                         f"[{row['diff_p_target_low']:+.3f}, {row['diff_p_target_high']:+.3f}]")
            print(line)
        print(f"   VSS {fmt(rec.vss['mean'], 2)} [{fmt(rec.vss['low'], 2)}, {fmt(rec.vss['high'], 2)}]; "
              f"EVPI ≥ {fmt(rec.evpi_lower, 2)} communes (best candidate per draw)")


if __name__ == "__main__":
    main()
