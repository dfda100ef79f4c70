"""Commands on data: the template, validation, the data group, serving the dashboard and the backtest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ntm_sim.cli.common import (
    EN,
    VI,
    DataOption,
    ForceOption,
    UnitsOption,
    app,
    check_limits,
    data_app,
    demo_banner,
    echo,
    guarded,
    inputs_of,
    load,
    report_problems,
)
from ntm_sim.errors import InputError, Problem, Text


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
    from ntm_sim.data.criteria import available_sets, load_criteria_set
    from ntm_sim.data.io.excel_write import write_template
    from ntm_sim.data.units import UnitList, resolve_units
    from ntm_sim.storage import reserve

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
    from ntm_sim.data.summary import validation_summary

    ds = load(file, units)
    if ds.warnings:  # type: ignore[attr-defined]
        report_problems(list(ds.warnings))  # type: ignore[attr-defined]
    demo_banner(ds)
    echo(f"{file}: OK")
    if ds.meta.units:  # type: ignore[attr-defined]
        echo(VI("cli.data.units", units=ds.meta.units))  # type: ignore[attr-defined]
    echo(validation_summary(ds))  # type: ignore[arg-type]


@data_app.command("summary")
@guarded
def data_summary(data: DataOption = "lao_cai", units: UnitsOption = "auto") -> None:
    """Per district: communes, NTM communes, groups, average criteria, cost to NTM."""
    from ntm_sim.data.summary import format_district_summary

    ds = load(data, units)
    demo_banner(ds)
    echo(format_district_summary(ds))  # type: ignore[arg-type]
    if ds.any_cost_estimated:  # type: ignore[attr-defined]
        echo(VI("cli.data.cost_estimated"))


@data_app.command("export")
@guarded
def data_export(out: Annotated[Path, typer.Argument(help="Output .xlsx (planners' layout) or folder.")],
                data: DataOption = "lao_cai", units: UnitsOption = "auto", force: ForceOption = False) -> None:
    """Write a dataset in the planners' workbook layout (or as a dataset folder)."""
    from ntm_sim.data.io.excel_write import write_workbook
    from ntm_sim.data.io.folder import write_folder
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
    from ntm_sim.data.carry import carry_dataset, parse_assign, write_carried
    from ntm_sim.storage import reserve

    with reserve(out, kind="file", force=force, inputs=inputs_of(data), option="OUT"):
        ds = load(data, units)
        carried = carry_dataset(ds, to, criteria_set=criteria, assign=parse_assign(assign or []))  # type: ignore[arg-type]
        write_carried(carried, ds, out)  # type: ignore[arg-type]
    demo_banner(ds)
    echo(f"wrote {out}: " + VI("cli.data.carried", communes=len(carried.communes), cells=len(carried.needs_input()),
                               out=out))
    if carried.unassigned:
        echo(VI("cli.data.unassigned", communes=", ".join(carried.unassigned)))


@data_app.command("generate")
@guarded
def data_generate(
    out: Annotated[Path | None, typer.Option(help="Folder (default: the bundled data).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    force: ForceOption = False,
) -> None:
    """Regenerate the synthetic Lào Cai demo dataset (seeded, reproducible)."""
    from ntm_sim.data import demo, demo_facts

    folder = demo_facts.write_bundled(out, seed if seed is not None else demo.SEED, force=force)
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
    from ntm_sim.serve.serving import ServeSettings, run_server, serve_command

    settings = ServeSettings(results=results, scenarios=scenarios, port=port, network=network, address=address,
                             password_file=password_file, origins=list(origin or []), save_scenarios=save_scenarios)
    argv, env = serve_command(settings)
    where = VI("cli.data.serve_network" if settings.public else "cli.data.serve_local")
    host = "localhost" if settings.bind in ("127.0.0.1", "0.0.0.0") else settings.bind
    echo(VI("cli.data.serve_at", host=host, port=port, where=where, results=results))
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
    from ntm_sim.analysis.backtest import CALIBRATED, run_backtest

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
    echo(VI("cli.data.backtest_head", draws=draws, seed=seed))
    echo(EN("cli.data.backtest_head", draws=draws, seed=seed))
    echo(result.markdown())
    echo("")
    echo(f"{VI('cli.data.calibrated')} / {EN('cli.data.calibrated')}:")
    for what, point, why in CALIBRATED:
        echo(f"  - {what} ← {point}: {why}")
