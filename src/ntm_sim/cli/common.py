"""The ``ntm-sim`` command's frame: the app, its options, how problems are shown, loading data and scenarios."""

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
from ntm_sim.messages import Catalogue, cli_language, cli_text, problem_line, set_cli_language

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
#: the commands' own lines (results, summaries, banners) print in Vietnamese whatever --lang says, as they
#: always have; the backtest's head prints in both languages
VI = Catalogue("vi")
EN = Catalogue("en")

F = TypeVar("F", bound=Callable[..., object])


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
    from ntm_sim.data.units import resolve_units

    return resolve_units(units)


def load(data: str, units: str = "auto") -> object:
    """Load a dataset for a command, with the reference unit list chosen."""
    from ntm_sim.data.registry import BUNDLED, load_dataset

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
        shown = "; ".join(items[:3]) + (" …" if len(items) > 3 else "")
        echo(f"*** {VI('cli.common.provisional', criteria=criteria.id, n=len(items), items=shown)} ***")


def main() -> None:
    """Entry point for ``python -m ntm_sim``."""
    app()


# ----- optimisation -------------------------------------------------------------------------

def scenario_inputs(scenario_path: Path, data: str | None, *more: object) -> list[Path]:
    """Files a scenario run reads (the scenario, its data, ``more``), for :func:`ntm_sim.storage.reserve`."""
    from ntm_sim.model.scenario import load_scenario, resolve_data_path

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
    from ntm_sim.model.scenario import load_scenario, resolve_data_path

    scenario = load_scenario(scenario_path)
    ds = load(data if data else resolve_data_path(scenario), units)
    return scenario, ds


def check_limits(time_limit: float | None = None, draws: int | None = None, seed: int | None = None) -> None:
    """Refuse limits that are not usable numbers, before any work."""
    import math

    from ntm_sim.bounds import MAX_DRAWS, MAX_SEED

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



# ----- simulation ---------------------------------------------------------------------------


# ----- report -------------------------------------------------------------------------------


# ----- sweep --------------------------------------------------------------------------------


# ----- frontier -----------------------------------------------------------------------------


if __name__ == "__main__":
    main()
