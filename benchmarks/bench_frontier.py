"""The budget curve of Lào Cai: how long six levels take, and what the curve says.

Run by hand (no timed assertions; this machine is noisy)::

    .venv/bin/python benchmarks/bench_frontier.py [--scenario baseline] [--levels 0.6 0.8 1 1.2 1.5 2] [--seed 0]

It computes the curve as ``ntm-sim frontier`` and the dashboard do
(:func:`ntm_sim.analysis.frontier.frontier`: one search for every level, sharing its
draws, each level's solves started from the level below) and prints the time (wall and
CPU, solver processes included) against issue 21's goal (six levels in under 60 s), with
the machine's load, then each level's recommended plan, median and band, P(target), and
the money per extra commune.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from timing import cpu_seconds, load, timed, verdict  # noqa: E402

from ntm_sim.analysis.frontier import DEFAULT_SCALES, frontier  # noqa: E402
from ntm_sim.model.scenario import load_scenario  # noqa: E402
from ntm_sim.run.workflow import scenario_dataset  # noqa: E402

GOAL_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--levels", type=float, nargs="+", default=list(DEFAULT_SCALES))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sc = load_scenario(ROOT / "scenarios" / f"{args.scenario}.yaml")
    ds = scenario_dataset(sc)
    start_load = load()
    cpu = cpu_seconds()
    total, curve = timed(lambda: frontier(ds, sc, tuple(args.levels), seed=args.seed))
    cpu = cpu_seconds() - cpu
    print(f"== budget curve of {args.scenario}, {len(args.levels)} levels: {total:.1f} s (CPU {cpu:.1f} s, solver "
          f"processes included; at the start {start_load}, at the end {load()}); goal < {GOAL_SECONDS:.0f} s: "
          f"{verdict(total, GOAL_SECONDS)}")
    t = curve.table
    print(f"   {'level':>6} {'money (bn)':>11} {'plan':<16} {'paper':>5} {'mean':>6} {'p5–p95':>9} {'P(target)':>9} "
          f"{'bn/commune':>10}")
    for _, row in t.iterrows():
        per = row["money_per_commune_mvnd"]
        print(f"   {row['scale']:6.2f} {row['budget_mvnd'] / 1000:11,.0f} {row['plan']:<16} "
              f"{row['planned_communes']:5.0f} {row['mean']:6.2f} {row['p5']:4.0f}–{row['p95']:<4.0f} "
              f"{row['p_target']:9.3f} {'' if per != per else f'{per / 1000:10,.0f}'}"
              + ("" if row["carried_from"] != row["carried_from"] else f"  (the plan of × {row['carried_from']:g})"))
    rising = bool(t["mean"].is_monotonic_increasing)
    print(f"   the mean never falls as money rises: {'yes' if rising else 'no'}")
    print(f"   {curve.statement_vi()}")


if __name__ == "__main__":
    main()
