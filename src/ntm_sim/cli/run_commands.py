"""Commands that plan and report: solve, simulate, report, sweep and frontier."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from ntm_sim.cli.common import (
    VI,
    ForceOption,
    SamplerName,
    SolverName,
    UnitsOption,
    app,
    check_limits,
    check_scheduler,
    demo_banner,
    echo,
    guarded,
    inputs_of,
    load_for_scenario,
    scenario_inputs,
)
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.model.scenario import Mode
from ntm_sim.present.console import format_simulation_summary, format_solve_summary


@app.command()
@guarded
def solve(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Results folder (written atomically).")],
    data: Annotated[str | None, typer.Option("--data", "-d", help="Dataset (default: the scenario's).")] = None,
    mode: Annotated[Mode | None, typer.Option(help="What to optimise (default: the scenario's).")] = None,
    solver: Annotated[SolverName | None, typer.Option(help="MILP solver (default: the scenario's).")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Safety limit in seconds per solve "
                                                     "(stages stop on work limits; hitting this is reported).")] = None,
    draws: Annotated[int | None, typer.Option(help="Fresh draws that judge the plan (default: the scenario's; "
                                                   "0: on paper only).")] = None,
    seed: Annotated[int, typer.Option(help="Seed (hạt giống ngẫu nhiên): same seed, same numbers.")] = 0,
    deterministic: Annotated[bool, typer.Option("--deterministic", help="Recommend the optimum on paper instead "
                                                "of the plan that does best in the simulation.")] = False,
    units: UnitsOption = "auto",
    force: ForceOption = False,
) -> None:
    """Find the plan to recommend, simulate it beside the usual rules, write plan, priorities, odds and manifest."""
    from ntm_sim.run.workflow import solve_and_simulate, write_run
    from ntm_sim.storage import reserve

    check_limits(time_limit, draws, seed)
    with reserve(out, force=force, inputs=scenario_inputs(scenario, data)):
        sc, ds = load_for_scenario(scenario, data, units)
        if mode is not None:
            sc = sc.with_(mode=mode.value)  # type: ignore[attr-defined]
        if solver is not None:
            sc = sc.with_(solver={**sc.solver.model_dump(), "name": solver.value})  # type: ignore[attr-defined]
        demo_banner(ds)
        run = solve_and_simulate(ds, sc, draws=draws, seed=seed, time_limit=time_limit,  # type: ignore[arg-type]
                                 deterministic=deterministic)
        summary = write_run(run, out, command=sys.argv, force=force)
    echo(format_solve_summary(summary))
    echo(VI("cli.run.results", out=out))


@app.command()
@guarded
def simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Results folder (written atomically).")],
    plan: Annotated[Path | None, typer.Option("--plan", help="Results folder of 'ntm-sim solve' to evaluate "
                                                             "(default: find the plan first, as solve does).")] = None,
    data: Annotated[str | None, typer.Option("--data", "-d", help="Dataset (default: the scenario's).")] = None,
    draws: Annotated[int, typer.Option(help="Number of draws.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed (hạt giống ngẫu nhiên): same seed, same numbers.")] = 0,
    sampler: Annotated[SamplerName, typer.Option(help="How the draws are sampled.")] = SamplerName.mc,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local' to start a "
                                                       "LocalCluster (needs the [distributed] extra).")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Safety limit per solve, when "
                                                     "solving first.")] = None,
    units: UnitsOption = "auto",
    force: ForceOption = False,
) -> None:
    """Simulate plans under uncertainty: target probabilities, drivers of failure, regret."""
    from ntm_sim.storage import reserve

    check_limits(time_limit, draws, seed)
    if draws < 1:
        raise InputError([Problem("--draws", Text("cli.draws_needed"), expected=Text("cli.at_least_1"),
                                  found=str(draws))])
    check_scheduler(scheduler)
    check_simulation_home(scenario, out, plan)
    with reserve(out, force=force, inputs=scenario_inputs(scenario, data, plan)):
        _simulate(scenario, out, plan, data, draws, seed, sampler.value, scheduler, time_limit, units, force)


def check_simulation_home(scenario: Path, out: Path, plan: Path | None) -> None:
    """Refuse, before any work, a simulation written as a solve folder's own that is not of its plan.

    The report and the dashboard show ``X/simulation`` as the odds of the run in X, so it
    must simulate X's plan (``--plan X``) under X's scenario.
    """
    import json

    from ntm_sim.analysis.compare import SIMULATION
    from ntm_sim.model.scenario import load_scenario

    target = out.resolve()
    home = target.parent
    if target.name != SIMULATION or not (home / "summary.json").is_file():
        return
    try:
        manifest = json.loads((home / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # not a readable solve folder: the run is refused when read, whatever is written here
    if not isinstance(manifest, dict) or manifest.get("kind") != "solve":
        return
    if plan is None or plan.resolve() != home:
        raise InputError([Problem("--plan", Text("sim.own_plan", folder=str(home)),
                                  expected=Text("sim.own_plan.expected", folder=str(home)),
                                  found=str(plan) if plan is not None else Text("sim.no_plan"))])
    recorded = (manifest.get("scenario") or {}).get("hash")
    if recorded and load_scenario(scenario).content_hash() != recorded:
        raise InputError([Problem(str(scenario), Text("sim.own_scenario", folder=str(home)),
                                  expected=Text("sim.own_scenario.expected", folder=str(home)))])


def _simulate(scenario: Path, out: Path, plan: Path | None, data: str | None, draws: int, seed: int, sampler: str,
              scheduler: str | None, time_limit: float | None, units: str, force: bool) -> None:
    import time

    from ntm_sim.model.funding_gap import with_gap_source
    from ntm_sim.model.instance import build_instance
    from ntm_sim.run.results import load_plans, write_simulation_results
    from ntm_sim.run.workflow import plans_of, solve_and_simulate
    from ntm_sim.simulate import simulate as run_simulation

    sc, ds = load_for_scenario(scenario, data, units)
    demo_banner(ds)
    start = time.perf_counter()
    solver = None
    if plan is not None:
        inst = build_instance(ds, sc)  # type: ignore[arg-type]
        if sc.mode == "min-cost":  # type: ignore[attr-defined]
            inst = with_gap_source(inst)  # the plan's funding gap is a source of its own
        plans = load_plans(inst, plan)
    else:
        run = solve_and_simulate(ds, sc, draws=draws, seed=seed, sampler=sampler,  # type: ignore[arg-type]
                                 time_limit=time_limit)
        result = run.result
        inst = result.instance
        plans = plans_of(result)
        solver = {"name": result.solver, "version": result.solver_version, "status": result.status}
        echo(result.summary_line())
    solve_s = time.perf_counter() - start

    def progress(done: int, total: int) -> None:
        echo(f"  … {VI('cli.run.draws_done', done=done, total=total)}", err=True)

    t = time.perf_counter()
    if plan is None and scheduler is None and run.simulation is not None:
        sim = run.simulation  # the plans were just judged on exactly these draws
    else:
        sim = run_simulation(inst, plans, sc.uncertainty, n_draws=draws, seed=seed,  # type: ignore[arg-type]
                             sampler=sampler, scheduler=scheduler,  # type: ignore[arg-type]
                             progress=progress if draws > 5000 else None)
    sim_s = time.perf_counter() - t
    summary = write_simulation_results(sim, out, command=sys.argv, solver=solver,
                                       timings={"solve_s": solve_s, "simulate_s": sim_s}, force=force, plan=plan)
    echo(format_simulation_summary(summary))
    echo(VI("cli.run.results", out=out))


@app.command()
@guarded
def report(
    results: Annotated[list[Path], typer.Argument(help="Results folders of 'ntm-sim solve' (their simulation/ "
                                                       "subfolders are used when present), or one folder of them.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write (self-contained, works offline).")],
    title: Annotated[str | None, typer.Option(help="Title of the report.")] = None,
    force: ForceOption = False,
) -> None:
    """Write a self-contained HTML report comparing scenarios, for the steering committee."""
    from ntm_sim.analysis.compare import in_scenario_order, labelled
    from ntm_sim.present.report_html import demo_label
    from ntm_sim.present.report_page import write_report
    from ntm_sim.run.curve_job import stored_curve_of
    from ntm_sim.run.runs import find_runs, load_run
    from ntm_sim.storage import check_output

    check_output(out, kind="file", force=force, inputs=inputs_of(*results))

    if len(results) == 1 and not (results[0] / "summary.json").exists() and results[0].is_dir():
        runs = in_scenario_order(find_runs(results[0]))  # a folder of runs: the scenario folder's order
        if not runs:
            raise InputError([Problem(str(results[0]), Text("cli.no_runs"), expected=Text("cli.no_runs.expected"))])
    else:
        runs = [load_run(r) for r in results]
    runs = labelled(runs)  # columns named by scenario title, unique even for folders of one scenario
    label = demo_label(runs)
    if label:
        echo(f"*** {label} ***")
    # the budget curves stored beside the runs: the verdict's money for the target at the confidence level
    curves = {r.name: stored_curve_of(r) for r in runs}
    write_report(runs, out, title=title, force=force, curves=curves)
    echo(VI("cli.run.report_done", out=out, n=len(runs), names=", ".join(r.name for r in runs)))


@app.command()
@guarded
def sweep(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files (all on the first one's data).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Sweep folder (written atomically).")],
    budget_scale: Annotated[str | None, typer.Option(
        "--budget-scale", help="Comma-separated budget multipliers for each scenario, e.g. 0.6,0.8,1.0.")] = None,
    data: Annotated[str | None, typer.Option("--data", "-d", help="Dataset (default: the first scenario's).")] = None,
    draws: Annotated[int, typer.Option(min=0, help="Draws per scenario (0: solve only).")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed, the same for every scenario.")] = 0,
    sampler: Annotated[SamplerName, typer.Option(help="How the draws are sampled.")] = SamplerName.mc,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local'.")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Safety limit per solve.")] = None,
    deterministic: Annotated[bool, typer.Option("--deterministic", help="Each scenario's optimum on paper "
                                                "(fast) instead of the plan chosen by simulation.")] = False,
    units: UnitsOption = "auto",
    force: ForceOption = False,
) -> None:
    """Solve and simulate many scenarios (and budget levels) on common random numbers."""
    from ntm_sim.bounds import MAX_SWEEP_RUNS, parse_levels
    from ntm_sim.model.scenario import load_scenario
    from ntm_sim.storage import reserve

    scales: list[float] | None = None
    if budget_scale is not None:
        base = max(load_scenario(p).budget.scale for p in scenarios)
        scales = list(parse_levels(budget_scale, "--budget-scale", base=base, positive=False))
    runs = len(scenarios) * len(scales or [1])
    if runs > MAX_SWEEP_RUNS:
        raise InputError([Problem("--budget-scale", Text("bounds.sweep_runs", n=runs),
                                  expected=Text("bounds.sweep_runs.expected", most=MAX_SWEEP_RUNS),
                                  found=budget_scale or str(len(scenarios)))])
    check_limits(time_limit, draws, seed)
    check_scheduler(scheduler)
    with reserve(out, force=force, inputs=scenario_inputs(scenarios[0], data, *scenarios[1:])):
        _sweep(scenarios, out, scales, data, draws, seed, sampler.value, scheduler, time_limit, deterministic, units,
               force)


def _sweep(scenarios: list[Path], out: Path, scales: list[float] | None, data: str | None, draws: int, seed: int,
           sampler: str, scheduler: str | None, time_limit: float | None, deterministic: bool, units: str,
           force: bool) -> None:
    from ntm_sim.model.scenario import load_scenario
    from ntm_sim.run.sweep import budget_variants, write_sweep
    from ntm_sim.run.sweep import sweep as run_sweep
    from ntm_sim.text import format_number_vi, format_percent_vi

    first, ds = load_for_scenario(scenarios[0], data, units)
    scs = [first] + [load_scenario(p) for p in scenarios[1:]]
    if scales is not None:
        scs = [v for sc in scs for v in budget_variants(sc, scales)]  # type: ignore[arg-type]
    names = [sc.name for sc in scs]  # type: ignore[attr-defined]
    if len(set(names)) != len(names):
        raise InputError([Problem(", ".join(str(p) for p in scenarios), Text("cli.same_name"),
                                  expected=Text("cli.same_name.expected"), found=", ".join(names))])
    demo_banner(ds)

    def progress(done: int, total: int) -> None:
        echo(f"  … {VI('cli.run.scenarios_done', done=done, total=total)}", err=True)

    result = run_sweep(ds, scs, draws=draws, seed=seed, sampler=sampler, time_limit=time_limit,  # type: ignore[arg-type]
                       scheduler=scheduler, deterministic=deterministic, progress=progress)
    write_sweep(result, out, command=sys.argv, force=force)
    for _, r in result.table.iterrows():
        sim = "" if not r["draws"] else VI("cli.run.sweep_sim", mean=format_number_vi(r["sim_mean"], 1),
                                           p5=format_number_vi(r["sim_p5"]), p95=format_number_vi(r["sim_p95"]),
                                           p=format_percent_vi(r["p_target"]))
        echo(VI("cli.run.sweep_row", scenario=r["scenario"], communes=r["communes_ntm"],
                cost=format_number_vi(r["total_cost_mvnd"] / 1000, 1), sim=sim))
    echo(VI("cli.run.sweep_results", out=out))


@app.command()
@guarded
def frontier(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file (max-achievement).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Results folder (written atomically).")],
    budget_scale: Annotated[str, typer.Option(
        "--budget-scale", help="Comma-separated budget levels, multiples of the scenario's money.")
    ] = "0.6,0.8,1.0,1.2,1.5,2.0",
    data: Annotated[str | None, typer.Option("--data", "-d", help="Dataset (default: the scenario's).")] = None,
    seed: Annotated[int, typer.Option(help="Seed (hạt giống ngẫu nhiên), the same at every level.")] = 0,
    draws: Annotated[int | None, typer.Option(help="Fresh draws per level (default: the scenario's).")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Safety limit per solve.")] = None,
    units: UnitsOption = "auto",
    force: ForceOption = False,
) -> None:
    """The money for a given confidence: the recommended plan's odds along a range of budgets."""
    from ntm_sim.bounds import MAX_DRAWS, MIN_JUDGE_DRAWS, parse_levels
    from ntm_sim.model.scenario import load_scenario
    from ntm_sim.storage import reserve

    scales = parse_levels(budget_scale, "--budget-scale", base=load_scenario(scenario).budget.scale)
    check_limits(time_limit, draws, seed)
    if draws is not None and draws < MIN_JUDGE_DRAWS:  # every level's plan is judged on them
        raise InputError([Problem("--draws", Text("run.judge_draws"), found=str(draws),
                                  expected=Text("cli.frontier_draws.expected", least=MIN_JUDGE_DRAWS, most=MAX_DRAWS))])
    with reserve(out, force=force, inputs=scenario_inputs(scenario, data)):
        _frontier(scenario, out, scales, data, seed, draws, time_limit, units, force)


def _frontier(scenario: Path, out: Path, scales: tuple[float, ...], data: str | None, seed: int, draws: int | None,
              time_limit: float | None, units: str, force: bool) -> None:
    from ntm_sim.analysis.frontier import frontier as run_frontier
    from ntm_sim.model.contracts import Manifest, dump
    from ntm_sim.run.frontier_cache import write_frontier_files
    from ntm_sim.run.results import manifest
    from ntm_sim.storage import atomic_folder
    from ntm_sim.text import format_number_vi as fmt
    from ntm_sim.text import format_percent_vi as pct

    sc, ds = load_for_scenario(scenario, data, units)
    if sc.mode != "max-achievement":  # type: ignore[attr-defined]
        raise InputError([Problem(str(scenario), Text("cli.frontier_mode"), expected=Text("cli.frontier_mode.expected"),
                                  found=str(sc.mode))])  # type: ignore[attr-defined]
    if draws is not None:
        sc = sc.with_(robustness={**sc.robustness.model_dump(), "test_draws": draws})  # type: ignore[attr-defined]
    demo_banner(ds)
    result = run_frontier(ds, sc, scales, seed=seed, time_limit=time_limit)  # type: ignore[arg-type]
    with atomic_folder(out, kind="frontier", force=force) as tmp:
        write_frontier_files(result, tmp)
        dump(Manifest, manifest(ds, sc, tmp, kind="frontier", status={"levels": len(scales)},  # type: ignore[arg-type]
                                seed=seed, command=sys.argv), tmp / "manifest.json")
    for _, r in result.table.iterrows():
        carried = r.get("carried_from", math.nan)
        echo(VI("cli.run.frontier_row", money=fmt(r["budget_mvnd"] / 1000, 0), scale=fmt(100 * r["scale"]),
                p50=fmt(r["p50"]), p5=fmt(r["p5"]), p95=fmt(r["p95"]), p=pct(r["p_target"], 0))
             + ("" if math.isnan(carried) else VI("cli.run.frontier_carried", scale=fmt(100 * carried))))
    echo(result.statement_vi())
    echo(VI("cli.run.results", out=out))
