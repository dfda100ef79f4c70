"""The ``ntm-sim`` command."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.messages import cli_language, cli_text, problem_line, set_cli_language

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


class Mode(StrEnum):
    """``--mode``: what the optimizer does."""

    max_achievement = "max-achievement"
    min_cost = "min-cost"


class SolverName(StrEnum):
    """``--solver``."""

    auto = "auto"
    highs = "highs"
    cbc = "cbc"


class SamplerName(StrEnum):
    """``--sampler``: how experiment parameters are drawn (see :data:`ntm_sim.simulate.SAMPLERS`)."""

    mc = "mc"
    lhs = "lhs"
    sobol = "sobol"

DataOption = Annotated[
    str,
    typer.Option("--data", "-d", help="Dataset: 'lao_cai' (bundled), an .xlsx, a .csv or a folder."),
]
UnitsOption = Annotated[
    str,
    typer.Option("--units", help="Reference unit list: 'auto' (the province detected from the sheet's codes "
                                 "or names), 'lao_cai' (2021), a province ('lai_chau', 'Lai Châu@pre2025', "
                                 "'15@2025'), a CSV file, or 'none' (codes as written)."),
]
ForceOption = Annotated[
    bool,
    typer.Option("--force", help="Replace an earlier output of ntm-sim at this path (anything else is never "
                                 "replaced)."),
]


def inputs_of(*paths: object) -> list[Path]:
    """The paths among ``paths`` that exist: what a run reads, so that its output never replaces them."""
    out = []
    for p in paths:
        if p is None or str(p) in ("", "lao_cai") or str(p).startswith("bundled:"):
            continue
        if Path(str(p)).exists():
            out.append(Path(str(p)))
    return out


def echo(text: str = "", err: bool = False) -> None:
    """Print UTF-8 text whatever the terminal's encoding."""
    stream = sys.stderr if err else sys.stdout
    try:
        stream.write(text + "\n")
    except UnicodeEncodeError:
        stream.buffer.write((text + "\n").encode("utf-8"))
    stream.flush()


def report_problems(problems: list[Problem]) -> None:
    """Print problems (errors first) in the command's language, capped so a broken file stays readable."""
    lang = cli_language()
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    echo(cli_text("cli.header", errors=len(errors), warnings=len(warnings)), err=True)
    for p in (errors + warnings)[:MAX_PROBLEMS_SHOWN]:
        tag = cli_text("cli.error_tag" if p.severity == "error" else "cli.warning_tag")
        echo(f"  {tag}: {problem_line(p, lang)}", err=True)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        echo(f"  {cli_text('cli.more', n=len(problems) - MAX_PROBLEMS_SHOWN)}", err=True)


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
            echo(cli_text("cli.interrupted"), err=True)
            raise typer.Exit(130) from None
        except Exception as exc:  # never a traceback for the user; keep it for a bug report
            from ntm_sim.storage import is_user_error

            if isinstance(exc, OSError) and is_user_error(exc):
                # a full or read-only disk, no permission: the user's to fix, not a bug of the tool
                report_problems([Problem(str(exc.filename or "ntm-sim"),
                                         Text("cli.os_error", error=exc.strerror or str(exc)))])
                raise typer.Exit(EXIT_INPUT) from None
            echo(cli_text("cli.unexpected", error=f"{exc.__class__.__name__}: {exc}"), err=True)
            echo(cli_text("cli.report"), err=True)
            echo("".join(traceback.format_exception_only(exc)).strip(), err=True)
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _options(
    lang: Annotated[str | None, typer.Option(
        "--lang", envvar="NTM_SIM_LANG", help="Language of the messages: vi (Vietnamese, the default) or en.",
        show_envvar=True)] = None,
) -> None:
    """Scenario planning for the New Rural Development programme (NTM)."""
    try:
        set_cli_language(lang)
    except ValueError:
        set_cli_language("vi")
        report_problems([Problem("--lang", Text("cli.lang"), expected=Text("cli.lang.expected"), found=str(lang))])
        raise typer.Exit(EXIT_INPUT) from None


def _units(units: str) -> object:
    from ntm_sim.units import resolve_units

    return resolve_units(units)


def load(data: str, units: str = "auto") -> object:
    """Load a dataset for a command, with the reference unit list chosen."""
    from ntm_sim.io import BUNDLED, load_dataset

    if data in BUNDLED or data.startswith("bundled:"):
        return load_dataset(data)
    return load_dataset(data, units=_units(units))


def demo_banner(ds: object) -> None:
    """Print the demo-data label if the dataset is synthetic."""
    meta = getattr(ds, "meta", None)
    if meta is not None and meta.demo:
        echo(f"*** {meta.demo_label} ***")
    criteria = getattr(ds, "criteria", None)
    if criteria is not None and (items := criteria.provisional_items()):
        echo(f"*** Bộ tiêu chí {criteria.id}: {len(items)} giá trị tạm tính, chưa có trong văn bản công bố "
             f"(provisional): {'; '.join(items[:3])}{' …' if len(items) > 3 else ''} ***")


@app.command()
@guarded
def template(
    out: Annotated[Path, typer.Argument(help="Where to write the .xlsx template.")],
    empty: Annotated[bool, typer.Option(help="Leave the commune list empty (other provinces).")] = False,
    units: Annotated[str, typer.Option(
        "--units", help="Pre-fill this province's communes: 'lao_cai' (2021), or a province such as "
                        "'lai_chau@pre2025', '15@2025'.")] = "lao_cai",
    criteria: Annotated[str, typer.Option(help="Criteria set of the columns.")] = "qd318-2021-2025",
    force: ForceOption = False,
) -> None:
    """Write a blank input workbook with instructions (a province's communes pre-filled, Lào Cai by default)."""
    from ntm_sim.criteria import available_sets, load_criteria_set
    from ntm_sim.io.excel_write import write_template
    from ntm_sim.storage import reserve
    from ntm_sim.units import UnitList, resolve_units

    try:
        crit = load_criteria_set(criteria)
    except KeyError:
        raise InputError([Problem(criteria, Text("cli.criteria_set"),
                                  expected=Text("expect.one_of", choices=", ".join(available_sets())))]) from None
    chosen = None if empty else resolve_units(units)
    with reserve(out, kind="file", force=force, option="OUT"):
        write_template(out, crit, with_lao_cai=False, units=chosen if isinstance(chosen, UnitList) else None)
    echo(f"wrote {out}")


@app.command()
@guarded
def validate(
    file: Annotated[str, typer.Argument(help="An .xlsx workbook, a long .csv or a dataset folder.")],
    units: UnitsOption = "auto",
) -> None:
    """Check an input file; print a summary, or every problem with its place."""
    from ntm_sim.summary import validation_summary

    ds = load(file, units)
    if ds.warnings:  # type: ignore[attr-defined]
        report_problems(list(ds.warnings))  # type: ignore[attr-defined]
    demo_banner(ds)
    echo(f"{file}: OK")
    if ds.meta.units:  # type: ignore[attr-defined]
        echo(f"Danh mục đơn vị: {ds.meta.units}")  # type: ignore[attr-defined]
    echo(validation_summary(ds))  # type: ignore[arg-type]


@data_app.command("summary")
@guarded
def data_summary(data: DataOption = "lao_cai", units: UnitsOption = "auto") -> None:
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
                data: DataOption = "lao_cai", units: UnitsOption = "auto", force: ForceOption = False) -> None:
    """Write a dataset in the planners' workbook layout (or as a dataset folder)."""
    from ntm_sim.io.excel_write import write_workbook
    from ntm_sim.io.folder import write_folder
    from ntm_sim.storage import reserve

    kind = "file" if out.suffix.lower() == ".xlsx" else "folder"
    with reserve(out, kind=kind, force=force, inputs=inputs_of(data), option="OUT"):
        ds = load(data, units)
        if kind == "file":
            write_workbook(ds, out)  # type: ignore[arg-type]
        else:
            write_folder(ds, out, force=force)  # type: ignore[arg-type]
    echo(f"wrote {out}")


@data_app.command("carry")
@guarded
def data_carry(
    out: Annotated[Path, typer.Argument(help="Output .xlsx: the carried status and costs, to complete.")],
    data: DataOption = "lao_cai",
    units: UnitsOption = "auto",
    to: Annotated[str, typer.Option(help="The province from 1 July 2025.")] = "Lào Cai",
    criteria: Annotated[str, typer.Option(help="The new criteria set.")] = "qd51-2026-2030",
    assign: Annotated[list[str] | None, typer.Option(help="OLD=NEW commune codes, overriding the reform "
                                                          "mapping (repeatable).")] = None,
    force: ForceOption = False,
) -> None:
    """Carry a 2021–2025 dataset onto the units from 1 July 2025 and the 2026–2030 criteria."""
    from ntm_sim.carry import carry_dataset, parse_assign, write_carried
    from ntm_sim.storage import reserve

    with reserve(out, kind="file", force=force, inputs=inputs_of(data), option="OUT"):
        ds = load(data, units)
        carried = carry_dataset(ds, to, criteria_set=criteria, assign=parse_assign(assign or []))  # type: ignore[arg-type]
        write_carried(carried, ds, out)  # type: ignore[arg-type]
    demo_banner(ds)
    echo(f"wrote {out}: {len(carried.communes)} xã; {len(carried.needs_input())} ô cần cán bộ điền "
         f"(ntm-sim validate {out} liệt kê từng ô)")
    if carried.unassigned:
        echo(f"xã cũ chưa có đơn vị mới (dùng --assign CŨ=MỚI): {', '.join(carried.unassigned)}")


@data_app.command("generate")
@guarded
def data_generate(
    out: Annotated[Path | None, typer.Option(help="Folder (default: the bundled data).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    force: ForceOption = False,
) -> None:
    """Regenerate the synthetic Lào Cai demo dataset (seeded, reproducible)."""
    from ntm_sim import demo

    folder = demo.write_bundled(out, seed if seed is not None else demo.SEED, force=force)
    echo(f"wrote {folder}")


@app.command()
@guarded
def serve(
    results: Annotated[Path, typer.Option("--results", help="Folder of results folders to show.")] = Path("results"),
    scenarios: Annotated[Path, typer.Option("--scenarios", help="Scenario files offered for new runs.")] = Path(
        "scenarios"),
    port: Annotated[int, typer.Option(help="TCP port.")] = 5006,
    network: Annotated[bool, typer.Option("--network", help="Serve to the network (every interface), not only "
                                          "this machine; needs --password-file.")] = False,
    address: Annotated[str | None, typer.Option(help="Listen on this address instead (a non-loopback address "
                                                "needs --password-file).")] = None,
    password_file: Annotated[Path | None, typer.Option("--password-file", help="Login for Panel's basic "
                                                       "authentication: JSON {\"user\": \"password\"}, chmod 600.")
                             ] = None,
    origin: Annotated[list[str] | None, typer.Option("--origin", help="Another host[:port] browsers reach the "
                                                     "server by (repeatable).")] = None,
    save_scenarios: Annotated[bool, typer.Option("--save-scenarios", help="Let the page save edited scenarios "
                                                 "into --scenarios (new files only; never overwritten).")] = False,
) -> None:
    """Serve the dashboard: on this machine only, unless --network (with a login) is asked for."""
    from ntm_sim.serving import ServeSettings, run_server, serve_command

    settings = ServeSettings(results=results, scenarios=scenarios, port=port, network=network, address=address,
                             password_file=password_file, origins=list(origin or []), save_scenarios=save_scenarios)
    argv, env = serve_command(settings)
    where = "mạng (cần đăng nhập)" if settings.public else "chỉ máy này"
    host = "localhost" if settings.bind in ("127.0.0.1", "0.0.0.0") else settings.bind
    echo(f"Bảng điều khiển: http://{host}:{port}/app ({where}); kết quả: {results}. Dừng: Ctrl+C.")
    raise typer.Exit(run_server(argv, env))


@app.command()
@guarded
def backtest(
    data: DataOption = "lao_cai",
    units: UnitsOption = "lao_cai",
    draws: Annotated[int, typer.Option(help="Draws per uncertainty preset.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Simulate 2021–2024 from the 2021 start with the money of the data and compare with every known point."""
    from ntm_sim.backtest import CALIBRATED, run_backtest

    check_limits(draws=draws, seed=seed)
    if draws < 1:
        raise InputError([Problem("--draws", Text("cli.draws_needed"), expected=Text("cli.at_least_1"),
                                  found=str(draws))])
    ds = load(data, units)
    demo_banner(ds)
    try:
        result = run_backtest(ds, n_draws=draws, seed=seed)  # type: ignore[arg-type]
    except ValueError:
        raise InputError([Problem(data, Text("backtest.not_lao_cai"),
                                  expected=Text("backtest.not_lao_cai.expected"))]) from None
    echo("Mô phỏng 2021–2024 (cách tỉnh đã làm: xã mới theo quy tắc hiện hành, 5 xã nâng cao năm 2024) so với số "
         f"liệu đã công bố: trung vị (5–95%), {draws} lần thử, hạt giống {seed}; * = kiểm tra dự báo, ✗ = ngoài khoảng")
    echo(f"Simulated 2021–2024 against every known point: median (5–95%), {draws} draws, seed {seed}; "
         "* forecast check (nothing was set from it), ✗ outside the band")
    echo(result.markdown())
    echo("")
    echo("Đặt từ điểm nào / what was set from which point:")
    for what, point, why in CALIBRATED:
        echo(f"  - {what} ← {point}: {why}")


def main() -> None:
    """Entry point for ``python -m ntm_sim``."""
    app()



# ----- optimisation -------------------------------------------------------------------------

def scenario_inputs(scenario_path: Path, data: str | None, *more: object) -> list[Path]:
    """Files a scenario run reads (the scenario, its data, ``more``), for :func:`ntm_sim.storage.reserve`."""
    from ntm_sim.scenario import load_scenario, resolve_data_path

    sc = load_scenario(scenario_path)
    return inputs_of(scenario_path, data if data else resolve_data_path(sc), *more)


def check_scheduler(scheduler: str | None) -> None:
    """Refuse a Dask scheduler that is not 'local' nor a reachable address, before any work."""
    import socket
    from urllib.parse import urlsplit

    if scheduler is None or scheduler == "local":
        return
    parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if parts.scheme != "tcp" or not host or not port:
        raise InputError([Problem("--scheduler", Text("dask.not_address"), expected=Text("dask.not_address.expected"),
                                  found=scheduler)])
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as exc:
        raise InputError([Problem("--scheduler", Text("dask.cannot_reach", error=str(exc.strerror or exc)),
                                  expected=Text("dask.cannot_reach.expected"),
                                  found=scheduler)]) from None


def load_for_scenario(scenario_path: Path, data: str | None, units: str) -> tuple[object, object]:
    """Load a scenario and its dataset (``--data`` overrides the scenario's ``data:``)."""
    from ntm_sim.scenario import load_scenario, resolve_data_path

    scenario = load_scenario(scenario_path)
    ds = load(data if data else resolve_data_path(scenario), units)
    return scenario, ds


TARGET_LABELS_VI = {"communes_ntm": "xã đạt chuẩn NTM", "advanced": "xã NTM nâng cao", "model": "xã NTM kiểu mẫu",
                    "villages_ntm": "thôn NTM mới", "villages_model": "thôn kiểu mẫu mới",
                    "min_criteria": "không xã nào dưới mức sàn tiêu chí", "avg_criteria": "tiêu chí bình quân/xã"}
#: The tiers of results written before they carried their criteria set's own (Decision 318's).
OLD_TIERS_VI = {"advanced": "nâng cao", "model": "kiểu mẫu"}


def tier_labels_vi(summary: dict) -> dict[str, str]:
    """The tiers above NTM a run's criteria set issues, by result key: ``{"advanced": "nâng cao", …}``.

    Read from ``summary.json`` ``tiers`` (Decision 51: ``{"model": "hiện đại (thí điểm)"}``);
    results written before it have Decision 318's two tiers.
    """
    tiers = summary.get("tiers")
    if tiers is None:
        return dict(OLD_TIERS_VI)
    return {slot: str(t.get("short_vi") or t.get("name_vi") or slot) for slot, t in tiers.items()}


def format_headline(summary: dict) -> list[str]:
    """The simulated headline: median and 5–95% band, P(each target), the figure on paper beside it."""
    from ntm_sim.text import format_number_vi as fmt
    from ntm_sim.text import format_percent_vi as pct

    h = summary.get("headline")
    years = summary["communes_ntm_by_year"]
    horizon = list(years)[-1]
    if not h:
        return [f"Xã NTM đến {horizon} (trên giấy, CHƯA mô phỏng rủi ro): {summary['communes_ntm']}"]
    o = h["outcomes"]["communes_ntm"]
    conf = h["confidence"]
    lines = [f"Xã NTM đến {horizon} theo mô phỏng ({fmt(h['draws'])} lần thử, hạt giống ngẫu nhiên {h['seed']}): "
             f"trung vị {fmt(o['median'])} (5–95%: {fmt(o['p5'])}–{fmt(o['p95'])}); bình quân {fmt(o['mean'], 1)}",
             f"  Nếu mọi chi phí, tiến độ và giải ngân đúng kế hoạch: {fmt(o.get('deterministic', 0))} xã"]
    names = dict(summary.get("district_names", {}))
    labels = {**TARGET_LABELS_VI, **{slot: f"xã NTM {q}" for slot, q in tier_labels_vi(summary).items()}}
    for key, t in h["targets"].items():
        kind, _, code = key.partition(":")
        label = labels.get(kind, kind)
        if kind == "min_criteria":
            label = f"không xã nào dưới {fmt(t['target'])} tiêu chí"
        elif code:
            label = {"district_units": "đơn vị cấp huyện", "advanced_districts": "huyện NTM nâng cao",
                     "criterion_communes": "số xã đạt"}.get(kind, kind) + f" {names.get(code, code)}"
        target = "" if kind == "min_criteria" or t["target"] is None or kind.endswith("districts") or \
            kind == "district_units" else f" ≥ {fmt(t['target'], 1 if kind == 'avg_criteria' else 0)}"
        verdict = "ĐẠT" if t["met"] else f"CHƯA ĐẠT độ tin cậy {pct(conf, 0)}"
        lines.append(f"  Xác suất {label}{target}: {pct(t['probability'], 0)} – {verdict}")
    return lines


def format_solve_summary(summary: dict) -> str:
    """Readable text of a solve summary (headline simulated), with Vietnamese number formats."""
    from ntm_sim.text import format_number_vi as fmt

    bn = lambda x: fmt(x / 1000, 1)  # noqa: E731
    lines = []
    proven = {"ok": "tối ưu đã chứng minh (proven optimal)"}.get(
        summary["status"], "CHƯA chứng minh tối ưu – dừng ở giới hạn khối lượng tính toán")
    if not summary.get("reproducible", True):
        proven += " – dừng do giới hạn THỜI GIAN: kết quả có thể khác nếu chạy lại"
    lines.append(f"Kịch bản: {summary['scenario']}   chế độ: {summary['mode']}   bộ giải: {summary['solver']} "
                 f"{summary['solver_version']}")
    rec = summary.get("recommendation")
    if rec and rec["chosen_kind"] == "rule":
        from ntm_sim.optimize.baselines import NAMES_VI

        lines.append(f"Phương án khuyến nghị (chọn theo mô phỏng): {NAMES_VI.get(rec['chosen'], rec['chosen'])}")
    elif rec:
        lines.append(f"Phương án khuyến nghị (chọn theo mô phỏng): {rec['chosen']}, dự phòng "
                     f"{fmt(100 * rec['reserve'])}% vốn, {rec['reserve_projects']} dự án trong danh sách dự phòng")
    lines.extend(format_headline(summary))
    lines.append(f"Trạng thái bộ giải: {summary['status']} – {proven}")
    for s in summary["stages"]:
        gap = "–" if s["mip_gap"] is None else f"{fmt(100 * s['mip_gap'], 2)}%"
        lines.append(f"  · {s['name']:<17} {s['termination']:<11} bộ giải {fmt(s['objective'] or 0, 2):>10}  "
                     f"cận {fmt(s['bound'] or 0, 2):>10}  gap {gap:>7}  phương án {fmt(s['plan_value'] or 0, 2):>10}"
                     f"  {fmt(s['runtime_s'], 1)} s")
    years = summary["communes_ntm_by_year"]
    lines.append("Trên giấy – xã đạt chuẩn NTM theo năm: " + ", ".join(f"{y}: {n}" for y, n in years.items()))
    # the criteria set's own tiers and, where it has them, district units
    tiers = ", ".join(f"{q} {summary[slot]}" for slot, q in tier_labels_vi(summary).items() if slot in summary)
    parts = [tiers] if tiers else []
    if "district_unit_names" in summary:
        parts.append(f"đơn vị cấp huyện: {', '.join(summary['district_unit_names']) or '–'}")
    lines.append(f"Trên giấy – xã NTM đến {list(years)[-1]}: {summary['communes_ntm']} "
                 f"(+{summary['new_communes_ntm']})" + "".join(f"; {p}" for p in parts))
    lines.append(f"Tiêu chí bình quân/xã: {fmt(summary['avg_criteria'], 2)}; "
                 f"thôn NTM mới {summary['villages_ntm_new']}, thôn kiểu mẫu mới {summary['villages_model_new']}")
    lines.append(f"Tổng vốn: {bn(summary['total_cost_mvnd'])} tỷ đồng / {bn(summary['budget_mvnd'])} tỷ đồng "
                 f"có sẵn; chưa dùng {bn(summary['unspent_mvnd'])} tỷ đồng")
    if "funding_gap_mvnd" in summary:
        gaps = ", ".join(f"{y}: {bn(g)}" for y, g in summary["funding_gap_by_year"].items())
        lines.append(f"Thiếu vốn (funding gap): {bn(summary['funding_gap_mvnd'])} tỷ đồng ({gaps})")
    for s in summary["shortfalls"]:
        lines.append(f"  ! không thể đạt: {s['label']}: thiếu {fmt(s['missing'], 1)} (cần {fmt(s['needed'], 1)})")
    if rec:
        for name in summary["baselines"]:
            row = rec["comparison"].get(name)
            if row is None:
                continue
            lines.append(f"So sánh (mô phỏng, cùng các lần thử) – {row['name_vi']}: bình quân "
                         f"{fmt(row['mean'], 1)} xã; phương án khuyến nghị hơn {fmt(row['diff_mean'], 1)} xã "
                         f"(khoảng tin cậy 95%: {fmt(row['diff_low'], 1)} đến {fmt(row['diff_high'], 1)})")
    else:
        for _name, b in summary["baselines"].items():
            diff = b["optimum_minus_baseline_communes"]
            lines.append(f"So sánh trên giấy – {b['name_vi']}: {b['communes_ntm']} xã NTM, "
                         f"{bn(b['total_cost_mvnd'])} tỷ đồng (phương án {'+' if diff >= 0 else ''}{diff} xã)")
    if summary["costs_estimated"]:
        lines.append("Lưu ý: chi phí có phần ƯỚC TÍNH theo đơn giá mặc định.")
    return "\n".join(lines)


def check_limits(time_limit: float | None = None, draws: int | None = None, seed: int | None = None) -> None:
    """Refuse limits that are not usable numbers, before any work."""
    import math

    from ntm_sim.bounds import MAX_SEED

    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InputError([Problem("--seed", Text("cli.seed"), expected=Text("cli.seed.expected", most=MAX_SEED),
                                  found=str(seed))])
    if time_limit is not None and (not math.isfinite(time_limit) or time_limit <= 0):
        raise InputError([Problem("--time-limit", Text("cli.time_limit"), expected=Text("cli.time_limit.expected"),
                                  found=str(time_limit))])
    if draws is not None and not 0 <= draws <= MAX_DRAWS:
        raise InputError([Problem("--draws", Text("cli.draws_range"), expected=Text("cli.draws_range.expected",
                                                                                    most=MAX_DRAWS),
                                  found=str(draws))])


MAX_DRAWS = 100_000


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
    from ntm_sim.storage import reserve
    from ntm_sim.workflow import solve_and_simulate, write_run

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
        labels = {"communes_ntm": "số xã NTM", **{slot: f"xã {q}" for slot, q in tier_labels_vi(summary).items()},
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
    return "\n".join(lines)


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
    from ntm_sim.scenario import load_scenario

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

    from ntm_sim.instance import build_instance, with_gap_source
    from ntm_sim.results import load_plans, write_simulation_results
    from ntm_sim.simulate import simulate as run_simulation
    from ntm_sim.workflow import plans_of, solve_and_simulate

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
        echo(f"  … {done}/{total} lần thử", err=True)

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
    echo(f"Kết quả: {out}")


# ----- report -------------------------------------------------------------------------------

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
    from ntm_sim.report_html import demo_label, write_report
    from ntm_sim.runs import find_runs, load_run
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
    write_report(runs, out, title=title, force=force)
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
    sampler: Annotated[SamplerName, typer.Option(help="How the draws are sampled.")] = SamplerName.mc,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local'.")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Safety limit per solve.")] = None,
    deterministic: Annotated[bool, typer.Option("--deterministic", help="Each scenario's optimum on paper "
                                                "(fast) instead of the plan chosen by simulation.")] = False,
    units: UnitsOption = "auto",
    force: ForceOption = False,
) -> None:
    """Solve and simulate many scenarios (and budget levels) on common random numbers."""
    from ntm_sim.bounds import MAX_SWEEP_RUNS, check_levels
    from ntm_sim.scenario import load_scenario
    from ntm_sim.storage import reserve

    scales: list[float] | None = None
    if budget_scale is not None:
        try:
            scales = [float(x) for x in budget_scale.split(",") if x.strip()]
        except ValueError:
            scales = []
        base = max(load_scenario(p).budget.scale for p in scenarios)
        scales = list(check_levels(scales, "--budget-scale", budget_scale, base=base, positive=False))
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
    from ntm_sim.scenario import load_scenario
    from ntm_sim.sweep import budget_variants, write_sweep
    from ntm_sim.sweep import sweep as run_sweep
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
        echo(f"  … {done}/{total} kịch bản", err=True)

    result = run_sweep(ds, scs, draws=draws, seed=seed, sampler=sampler, time_limit=time_limit,  # type: ignore[arg-type]
                       scheduler=scheduler, deterministic=deterministic, progress=progress)
    write_sweep(result, out, command=sys.argv, force=force)
    for _, r in result.table.iterrows():
        sim = "" if not r["draws"] else (f"; mô phỏng {format_number_vi(r['sim_mean'], 1)} xã "
                                         f"({format_number_vi(r['sim_p5'])}–{format_number_vi(r['sim_p95'])}), "
                                         f"P(mục tiêu) {format_percent_vi(r['p_target'])}")
        echo(f"{r['scenario']}: {r['communes_ntm']} xã NTM, {format_number_vi(r['total_cost_mvnd'] / 1000, 1)} tỷ đồng"
             f"{sim}")
    echo(f"Kết quả: {out} (sweep.csv và một thư mục kết quả cho mỗi kịch bản)")


# ----- frontier -----------------------------------------------------------------------------

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
    from ntm_sim.bounds import check_levels
    from ntm_sim.scenario import load_scenario
    from ntm_sim.storage import reserve

    try:
        scales = tuple(float(x) for x in budget_scale.split(",") if x.strip())
    except ValueError:
        scales = ()
    scales = check_levels(scales, "--budget-scale", budget_scale, base=load_scenario(scenario).budget.scale)
    check_limits(time_limit, draws, seed)
    with reserve(out, force=force, inputs=scenario_inputs(scenario, data)):
        _frontier(scenario, out, scales, data, seed, draws, time_limit, units, force)


def _frontier(scenario: Path, out: Path, scales: tuple[float, ...], data: str | None, seed: int, draws: int | None,
              time_limit: float | None, units: str, force: bool) -> None:
    from ntm_sim.analysis.frontier import frontier as run_frontier
    from ntm_sim.analysis.frontier_cache import write_frontier_files
    from ntm_sim.contracts import Manifest, dump
    from ntm_sim.results import manifest
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
        echo(f"Vốn {fmt(r['budget_mvnd'] / 1000, 0)} tỷ đồng ({fmt(100 * r['scale'])}%): trung vị {fmt(r['p50'])} "
             f"xã (5–95%: {fmt(r['p5'])}–{fmt(r['p95'])}), khả năng đạt mục tiêu {pct(r['p_target'], 0)}")
    echo(result.statement_vi())
    echo(f"Kết quả: {out}")


if __name__ == "__main__":
    main()
