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
