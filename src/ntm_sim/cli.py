"""The ``ntm-sim`` command."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from ntm_sim.errors import InputError, Problem

app = typer.Typer(
    name="ntm-sim",
    help="Scenario planning for the New Rural Development programme (NTM).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Look at and regenerate datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")

EXIT_INPUT = 2
EXIT_INTERNAL = 1
MAX_PROBLEMS_SHOWN = 200

F = TypeVar("F", bound=Callable[..., object])

DataOption = Annotated[
    str,
    typer.Option("--data", "-d", help="Dataset: 'lao_cai' (bundled), an .xlsx, a .csv or a folder."),
]
UnitsOption = Annotated[
    str,
    typer.Option("--units", help="Reference unit list: 'lao_cai', 'none', or a CSV file."),
]


def echo(text: str = "", err: bool = False) -> None:
    """Print UTF-8 text whatever the terminal's encoding."""
    stream = sys.stderr if err else sys.stdout
    try:
        stream.write(text + "\n")
    except UnicodeEncodeError:
        stream.buffer.write((text + "\n").encode("utf-8"))
    stream.flush()


def report_problems(problems: list[Problem]) -> None:
    """Print problems (errors first), capped so a broken file stays readable."""
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    echo(f"{len(errors)} error(s), {len(warnings)} warning(s):", err=True)
    for p in (errors + warnings)[:MAX_PROBLEMS_SHOWN]:
        tag = "ERROR" if p.severity == "error" else "warning"
        echo(f"  {tag}: {p}", err=True)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        echo(f"  … and {len(problems) - MAX_PROBLEMS_SHOWN} more", err=True)


def guarded(func: F) -> F:
    """Turn input errors into a listing and exit code 2, other failures into exit code 1."""

    @wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            report_problems(exc.problems)
            raise typer.Exit(EXIT_INPUT) from None
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            echo("interrupted", err=True)
            raise typer.Exit(130) from None
        except Exception as exc:  # never a traceback for the user; keep it for a bug report
            echo(f"ntm-sim: unexpected error: {exc.__class__.__name__}: {exc}", err=True)
            echo("Please report it with the file that caused it. Details:", err=True)
            echo("".join(traceback.format_exception_only(exc)).strip(), err=True)
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def _units(units: str) -> object:
    from ntm_sim.units import lao_cai_units, read_unit_list

    if units == "lao_cai":
        return lao_cai_units()
    if units.lower() == "none":
        return None
    path = Path(units)
    if not path.exists():
        raise InputError([Problem(units, "unit list file not found",
                                  expected="'lao_cai', 'none' or a CSV with commune_code, commune_name, "
                                           "district_code, district_name")])
    return read_unit_list(path)


def load(data: str, units: str = "lao_cai") -> object:
    """Load a dataset for a command, with the reference unit list chosen."""
    from ntm_sim.dataset import BUNDLED, load_dataset

    if data in BUNDLED or data.startswith("bundled:"):
        return load_dataset(data)
    return load_dataset(data, units=_units(units))


def demo_banner(ds: object) -> None:
    """Print the demo-data label if the dataset is synthetic."""
    meta = getattr(ds, "meta", None)
    if meta is not None and meta.demo:
        echo(f"*** {meta.demo_label} ***")


@app.command()
@guarded
def template(
    out: Annotated[Path, typer.Argument(help="Where to write the .xlsx template.")],
    empty: Annotated[bool, typer.Option(help="Leave the commune list empty (other provinces).")] = False,
) -> None:
    """Write a blank input workbook with instructions (Lào Cai communes pre-filled)."""
    from ntm_sim.io.excel_write import write_template

    write_template(out, with_lao_cai=not empty)
    echo(f"wrote {out}")


@app.command()
@guarded
def validate(
    file: Annotated[str, typer.Argument(help="An .xlsx workbook, a long .csv or a dataset folder.")],
    units: UnitsOption = "lao_cai",
) -> None:
    """Check an input file; print a summary, or every problem with its place."""
    from ntm_sim.summary import validation_summary

    ds = load(file, units)
    warnings = ds._cache.get("warnings", [])  # type: ignore[attr-defined]
    if warnings:
        report_problems(warnings)
    demo_banner(ds)
    echo(f"{file}: OK")
    echo(validation_summary(ds))  # type: ignore[arg-type]


@data_app.command("summary")
@guarded
def data_summary(data: DataOption = "lao_cai", units: UnitsOption = "lao_cai") -> None:
    """Per district: communes, NTM communes, groups, average criteria, cost to NTM."""
    from ntm_sim.summary import format_district_summary

    ds = load(data, units)
    demo_banner(ds)
    echo(format_district_summary(ds))  # type: ignore[arg-type]
    if ds.any_cost_estimated:  # type: ignore[attr-defined]
        echo("Chi phí có phần ước tính theo đơn giá mặc định (cost partly estimated).")


@data_app.command("export")
@guarded
def data_export(out: Annotated[Path, typer.Argument(help="Output .xlsx (planners' layout) or folder.")],
                data: DataOption = "lao_cai", units: UnitsOption = "lao_cai") -> None:
    """Write a dataset in the planners' workbook layout (or as a dataset folder)."""
    from ntm_sim.io.excel_write import write_workbook
    from ntm_sim.io.folder import write_folder

    ds = load(data, units)
    if out.suffix.lower() == ".xlsx":
        write_workbook(ds, out)  # type: ignore[arg-type]
    else:
        write_folder(ds, out)  # type: ignore[arg-type]
    echo(f"wrote {out}")


@data_app.command("generate")
@guarded
def data_generate(
    out: Annotated[Path | None, typer.Option(help="Folder (default: the bundled data).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
) -> None:
    """Regenerate the synthetic Lào Cai demo dataset (seeded, reproducible)."""
    from ntm_sim import demo

    folder = demo.write_bundled(out, seed if seed is not None else demo.SEED)
    echo(f"wrote {folder}")


def main() -> None:
    """Entry point for ``python -m ntm_sim``."""
    app()


if __name__ == "__main__":
    main()


# ----- optimisation -------------------------------------------------------------------------

def load_for_scenario(scenario_path: Path, data: str | None, units: str) -> tuple[object, object]:
    """Load a scenario and its dataset (``--data`` overrides the scenario's ``data:``)."""
    from ntm_sim.scenario import load_scenario, resolve_data_path

    scenario = load_scenario(scenario_path)
    ds = load(data if data else resolve_data_path(scenario), units)
    return scenario, ds


def format_solve_summary(summary: dict) -> str:
    """Readable text of a solve summary, with Vietnamese number formats."""
    from ntm_sim.text import format_number_vi as fmt

    bn = lambda x: fmt(x / 1000, 1)  # noqa: E731
    lines = []
    proven = "tối ưu đã chứng minh (proven optimal)" if summary["proven_optimal"] else (
        "CHƯA chứng minh tối ưu – dừng do giới hạn thời gian (time limit, best plan found)")
    lines.append(f"Kịch bản: {summary['scenario']}   chế độ: {summary['mode']}   bộ giải: {summary['solver']} "
                 f"{summary['solver_version']}")
    lines.append(f"Trạng thái: {summary['status']} – {proven}")
    for s in summary["stages"]:
        gap = "–" if s["mip_gap"] is None else f"{fmt(100 * s['mip_gap'], 2)}%"
        lines.append(f"  · {s['name']:<15} {s['termination']:<11} giá trị {fmt(s['objective'] or 0, 2):>12}  "
                     f"cận {fmt(s['bound'] or 0, 2):>12}  gap {gap:>7}  {fmt(s['runtime_s'], 1)} s")
    years = summary["communes_ntm_by_year"]
    lines.append("Xã đạt chuẩn NTM theo năm: " + ", ".join(f"{y}: {n}" for y, n in years.items()))
    lines.append(f"Xã NTM đến {list(years)[-1]}: {summary['communes_ntm']} (+{summary['new_communes_ntm']}); "
                 f"nâng cao {summary['advanced']}, kiểu mẫu {summary['model']}; "
                 f"đơn vị cấp huyện: {', '.join(summary['district_unit_names']) or '–'}")
    lines.append(f"Tiêu chí bình quân/xã: {fmt(summary['avg_criteria'], 2)}; "
                 f"thôn NTM mới {summary['villages_ntm_new']}, thôn kiểu mẫu mới {summary['villages_model_new']}")
    lines.append(f"Tổng vốn: {bn(summary['total_cost_mvnd'])} tỷ đồng / {bn(summary['budget_mvnd'])} tỷ đồng "
                 f"có sẵn; chưa dùng {bn(summary['unspent_mvnd'])} tỷ đồng")
    if "funding_gap_mvnd" in summary:
        gaps = ", ".join(f"{y}: {bn(g)}" for y, g in summary["funding_gap_by_year"].items())
        lines.append(f"Thiếu vốn (funding gap): {bn(summary['funding_gap_mvnd'])} tỷ đồng ({gaps})")
    missed = [f"{k} ({v['achieved']}/{v['target']})" for k, v in summary["targets"].items() if not v["met"]]
    lines.append("Mục tiêu chưa đạt: " + ("; ".join(missed) if missed else "không – mọi mục tiêu đều đạt"))
    for s in summary["shortfalls"]:
        lines.append(f"  ! không thể đạt: {s['label']}: thiếu {fmt(s['missing'], 1)} (cần {fmt(s['needed'], 1)})")
    for _name, b in summary["baselines"].items():
        diff = b["optimum_minus_baseline_communes"]
        lines.append(f"So sánh – {b['name_vi']}: {b['communes_ntm']} xã NTM, {bn(b['total_cost_mvnd'])} tỷ đồng "
                     f"(tối ưu {'+' if diff >= 0 else ''}{diff} xã)")
    if summary["costs_estimated"]:
        lines.append("Lưu ý: chi phí có phần ƯỚC TÍNH theo đơn giá mặc định.")
    return "\n".join(lines)


@app.command()
@guarded
def solve(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Results folder (written atomically).")],
    data: Annotated[str | None, typer.Option("--data", "-d", help="Dataset (default: the scenario's).")] = None,
    mode: Annotated[str | None, typer.Option(help="max-achievement or min-cost.")] = None,
    solver: Annotated[str | None, typer.Option(help="auto, highs or cbc.")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Seconds for all stages.")] = None,
    units: UnitsOption = "lao_cai",
) -> None:
    """Optimise a plan for a scenario and write plan, priorities, summary and manifest."""
    from ntm_sim.optimize import solve as run_solve
    from ntm_sim.results import write_solve_results

    if mode is not None and mode not in ("max-achievement", "min-cost"):
        raise InputError([Problem("--mode", "unknown mode", expected="max-achievement or min-cost", found=mode)])
    if solver is not None and solver not in ("auto", "highs", "cbc"):
        raise InputError([Problem("--solver", "unknown solver", expected="auto, highs or cbc", found=solver)])
    sc, ds = load_for_scenario(scenario, data, units)
    demo_banner(ds)
    result = run_solve(ds, sc, mode=mode, solver=solver, time_limit=time_limit)  # type: ignore[arg-type]
    summary = write_solve_results(result, out, command=sys.argv)
    echo(format_solve_summary(summary))
    echo(f"Kết quả: {out}")


# ----- simulation ---------------------------------------------------------------------------

def format_simulation_summary(summary: dict) -> str:
    """Readable text of a simulation summary, with Vietnamese number formats."""
    from ntm_sim.text import format_number_vi as fmt
    from ntm_sim.text import format_percent_vi as pct

    lines = [f"Mô phỏng: {summary['draws']} lần thử, seed {summary['seed']}, lấy mẫu {summary['sampler']}"]
    for plan, p in summary["plans"].items():
        o = p["outcomes"]["communes_ntm"]
        lines.append(f"{p['name_vi']} ({plan}): xã NTM bình quân {fmt(o['mean'], 1)} "
                     f"(5%–95%: {fmt(o['p5'])}–{fmt(o['p95'])})")
        probs = p["target_probabilities"]
        labels = {"communes_ntm": "số xã NTM", "advanced": "xã nâng cao", "model": "xã kiểu mẫu",
                  "all_targets": "mọi mục tiêu"}
        for code, name in summary.get("district_names", {}).items():
            labels[f"district_units:{code}"] = name
        shown = ", ".join(f"{labels[k]}: {pct(v, 0)}" for k, v in probs.items() if k in labels)
        if shown:
            lines.append(f"  xác suất đạt mục tiêu – {shown}")
        sens = list(p["sensitivity"].items())[:3]
        if sens:
            lines.append("  yếu tố ảnh hưởng nhất: " + ", ".join(f"{k} ({pct(v['first_order'], 0)})" for k, v in sens))
        lines.append("  " + p["scenario_discovery"]["text_vi"])
    if summary.get("regret_communes_ntm"):
        lines.append("Hối tiếc (số xã kém phương án tốt nhất trong cùng lần thử), bình quân: " + ", ".join(
            f"{k}: {fmt(v['mean_regret'], 1)}" for k, v in summary["regret_communes_ntm"].items()))
    if "robust_plan" in summary:
        r = summary["robust_plan"]
        f = r["fresh_draws"]
        lines.append(f"Phương án vững (dự phòng {pct(r['buffer'], 0)} chi phí): xã NTM bình quân "
                     f"{fmt(f['robust']['mean_communes'], 1)} so với {fmt(f['deterministic']['mean_communes'], 1)} "
                     f"của phương án tất định (kiểm tra trên lần thử mới)")
    return "\n".join(lines)


@app.command()
@guarded
def simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Results folder (written atomically).")],
    plan: Annotated[Path | None, typer.Option("--plan", help="Results folder of 'ntm-sim solve' to evaluate "
                                                             "(default: solve the scenario first).")] = None,
    data: Annotated[str | None, typer.Option("--data", "-d", help="Dataset (default: the scenario's).")] = None,
    draws: Annotated[int, typer.Option(min=1, help="Number of draws.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same numbers.")] = 0,
    sampler: Annotated[str, typer.Option(help="mc, lhs or sobol.")] = "mc",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local' to start a "
                                                       "LocalCluster (needs the [distributed] extra).")] = None,
    robust: Annotated[bool, typer.Option(help="Also tune a contingency buffer and compare on fresh draws.")] = False,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Solver seconds when solving first.")] = 60.0,
    units: UnitsOption = "lao_cai",
) -> None:
    """Simulate plans under uncertainty: target probabilities, drivers of failure, regret."""
    import time

    from ntm_sim.instance import build_instance, with_gap_source
    from ntm_sim.optimize import solve as run_solve
    from ntm_sim.results import load_plans, write_simulation_results
    from ntm_sim.simulate import simulate as run_simulation

    if sampler not in ("mc", "lhs", "sobol"):
        raise InputError([Problem("--sampler", "unknown sampler", expected="mc, lhs or sobol", found=sampler)])
    sc, ds = load_for_scenario(scenario, data, units)
    if robust and sc.mode != "max-achievement":  # type: ignore[attr-defined]
        raise InputError([Problem("--robust", "a robust plan is tuned in max-achievement mode",
                                  expected="a max-achievement scenario (for min-cost, compare the funding gap "
                                           "under a costlier scenario instead)",
                                  found=str(sc.mode))])  # type: ignore[attr-defined]
    demo_banner(ds)
    start = time.perf_counter()
    solver = None
    if plan is not None:
        inst = build_instance(ds, sc)  # type: ignore[arg-type]
        if sc.mode == "min-cost":  # type: ignore[attr-defined]
            inst = with_gap_source(inst)  # the plan's funding gap is a source of its own
        plans = load_plans(inst, plan)
    else:
        result = run_solve(ds, sc, time_limit=time_limit)  # type: ignore[arg-type]
        inst = result.instance
        plans = {"optimum": result.plan.decisions, **{n: p.decisions for n, p in result.baselines.items()}}
        solver = {"name": result.solver, "version": result.solver_version, "status": result.status}
        echo(result.summary_line())
    solve_s = time.perf_counter() - start

    def progress(done: int, total: int) -> None:
        echo(f"  … {done}/{total} lần thử", err=True)

    t = time.perf_counter()
    sim = run_simulation(inst, plans, sc.uncertainty, n_draws=draws, seed=seed, sampler=sampler,  # type: ignore[arg-type]
                         scheduler=scheduler, progress=progress if draws > 5000 else None)
    sim_s = time.perf_counter() - t
    robust_result = None
    if robust:
        from ntm_sim.analysis.robust_plan import robust_plan

        robust_result = robust_plan(ds, sc, settings=sc.uncertainty, n_train=min(draws, 2000),  # type: ignore[arg-type]
                                    n_test=draws, seed=seed, time_limit=min(time_limit, 30.0))
    summary = write_simulation_results(sim, out, robust=robust_result, command=sys.argv, solver=solver,
                                       timings={"solve_s": solve_s, "simulate_s": sim_s})
    echo(format_simulation_summary(summary))
    echo(f"Kết quả: {out}")


# ----- report -------------------------------------------------------------------------------

@app.command()
@guarded
def report(
    results: Annotated[list[Path], typer.Argument(help="Results folders of 'ntm-sim solve' (their simulation/ "
                                                       "subfolders are used when present), or one folder of them.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write (self-contained, works offline).")],
    title: Annotated[str | None, typer.Option(help="Title of the report.")] = None,
) -> None:
    """Write a self-contained HTML report comparing scenarios, for the steering committee."""
    from ntm_sim.analysis.compare import find_runs, load_run
    from ntm_sim.report_html import demo_label, write_report

    if len(results) == 1 and not (results[0] / "summary.json").exists() and results[0].is_dir():
        runs = find_runs(results[0])
        if not runs:
            raise InputError([Problem(str(results[0]), "no results folder inside",
                                      expected="folders written by 'ntm-sim solve'")])
    else:
        runs = [load_run(r) for r in results]
    label = demo_label(runs)
    if label:
        echo(f"*** {label} ***")
    write_report(runs, out, title=title)
    echo(f"Báo cáo: {out} ({len(runs)} kịch bản: {', '.join(r.name for r in runs)})")


# ----- sweep --------------------------------------------------------------------------------

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
    sampler: Annotated[str, typer.Option(help="mc, lhs or sobol.")] = "mc",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local'.")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Solver seconds per scenario.")] = None,
    units: UnitsOption = "lao_cai",
) -> None:
    """Solve and simulate many scenarios (and budget levels) on common random numbers."""
    from ntm_sim.scenario import load_scenario
    from ntm_sim.sweep import budget_variants, write_sweep
    from ntm_sim.sweep import sweep as run_sweep
    from ntm_sim.text import format_number_vi, format_percent_vi

    if sampler not in ("mc", "lhs", "sobol"):
        raise InputError([Problem("--sampler", "unknown sampler", expected="mc, lhs or sobol", found=sampler)])
    scales: list[float] | None = None
    if budget_scale is not None:
        try:
            scales = [float(x) for x in budget_scale.split(",") if x.strip()]
        except ValueError:
            scales = []
        if not scales or any(s < 0 for s in scales):
            raise InputError([Problem("--budget-scale", "not a list of budget multipliers",
                                      expected="numbers ≥ 0 separated by commas, e.g. 0.6,0.8,1.0",
                                      found=budget_scale)])
    first, ds = load_for_scenario(scenarios[0], data, units)
    scs = [first] + [load_scenario(p) for p in scenarios[1:]]
    if scales is not None:
        scs = [v for sc in scs for v in budget_variants(sc, scales)]  # type: ignore[arg-type]
    names = [sc.name for sc in scs]  # type: ignore[attr-defined]
    if len(set(names)) != len(names):
        raise InputError([Problem(", ".join(str(p) for p in scenarios), "two scenarios have the same name",
                                  expected="a different 'name:' in each scenario file", found=", ".join(names))])
    demo_banner(ds)

    def progress(done: int, total: int) -> None:
        echo(f"  … {done}/{total} kịch bản", err=True)

    result = run_sweep(ds, scs, draws=draws, seed=seed, sampler=sampler, time_limit=time_limit,  # type: ignore[arg-type]
                       scheduler=scheduler, progress=progress)
    write_sweep(result, out, command=sys.argv)
    for _, r in result.table.iterrows():
        sim = "" if not r["draws"] else (f"; mô phỏng {format_number_vi(r['sim_mean'], 1)} xã "
                                         f"({format_number_vi(r['sim_p5'])}–{format_number_vi(r['sim_p95'])}), "
                                         f"P(mục tiêu) {format_percent_vi(r['p_target'])}")
        echo(f"{r['scenario']}: {r['communes_ntm']} xã NTM, {format_number_vi(r['total_cost_mvnd'] / 1000, 1)} tỷ đồng"
             f"{sim}")
    echo(f"Kết quả: {out} (sweep.csv và một thư mục kết quả cho mỗi kịch bản)")
