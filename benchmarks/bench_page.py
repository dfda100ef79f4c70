"""What a planner waits for before the page shows, and each process before it starts, as ratios in one process.

* the dashboard's page built over a results root (``--results``, default ``results/``: ``make run`` writes it),
  its folders read from disk each time (the baseline) and once for the server (:class:`RunCache`);
* the message catalogue every process parses at start, with PyYAML's Python loader (the baseline) and with
  libyaml's (what the tool uses where PyYAML has it);
* a province's long status grid filled cell by cell through pandas ``.loc`` (the baseline, as it was) and
  in NumPy (what :func:`ntm_sim.data.io.longcsv.read_long_grid` does).

Run: ``python benchmarks/bench_page.py [--results DIR] [--repeat N]``.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from timing import best_of, load


def _page(results: Path, scenarios: Path, cache: object) -> None:
    from bokeh.document import Document

    import ntm_sim.dashboard.page as page
    from ntm_sim.dashboard.settings import DashboardSettings
    from ntm_sim.messages import Catalogue

    page.RUNS = cache
    app = page.create_app(DashboardSettings.from_args(["--results", str(results), "--scenarios", str(scenarios)]),
                          Catalogue.of("vi"))
    app.server_doc(Document())


def bench_page(results: Path, scenarios: Path, repeat: int) -> None:
    import panel as pn

    from ntm_sim.run.runs import RunCache, scan_runs

    pn.extension("tabulator")
    runs, _ = scan_runs(results)
    if not runs:
        raise SystemExit(f"no results folder under {results}: run `make run` first, or give --results DIR")

    class _NoCache(RunCache):
        def load(self, folder):  # type: ignore[override]
            from ntm_sim.run.runs import load_run

            return load_run(folder)

    warm = RunCache()
    _page(results, scenarios, warm)  # the server's first page reads the folders
    cold_s = best_of(repeat, lambda: _page(results, scenarios, _NoCache()))
    warm_s = best_of(repeat, lambda: _page(results, scenarios, warm))
    print(f"page over {len(runs)} runs: folders read each time {cold_s:.3f} s, kept by the server {warm_s:.3f} s "
          f"(×{cold_s / warm_s:.2f} faster; {load()})")


def bench_catalogue(repeat: int) -> None:
    text = (resources.files("ntm_sim") / "data" / "messages.yaml").read_text(encoding="utf-8")
    python_s = best_of(repeat, lambda: yaml.load(text, Loader=yaml.SafeLoader))  # noqa: S506 (a safe loader)
    fast = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    fast_s = best_of(repeat, lambda: yaml.load(text, Loader=fast))  # noqa: S506 (a safe loader)
    print(f"message catalogue: Python loader {python_s:.3f} s, {fast.__name__} {fast_s:.3f} s "
          f"(×{python_s / fast_s:.1f} faster; {load()})")


def bench_long_grid(repeat: int) -> None:
    from ntm_sim.data.registry import load_dataset

    ds = load_dataset("lao_cai")
    cells = [(c, k, bool(ds.status.loc[c, k])) for c in ds.status.index for k in ds.status.columns]
    idx, cols = ds.status.index, list(ds.status.columns)

    def by_loc() -> pd.DataFrame:
        frame = pd.DataFrame(False, index=idx, columns=cols)
        for c, k, met in cells:
            frame.loc[c, k] = met
        return frame

    rows, at = {c: i for i, c in enumerate(idx)}, {k: j for j, k in enumerate(cols)}

    def by_numpy() -> pd.DataFrame:
        grid = np.zeros((len(idx), len(cols)), dtype=bool)
        for c, k, met in cells:
            grid[rows[c], at[k]] = met
        return pd.DataFrame(grid, index=idx, columns=cols)

    pd.testing.assert_frame_equal(by_loc(), by_numpy())
    loc_s, numpy_s = best_of(repeat, by_loc), best_of(repeat, by_numpy)
    print(f"status grid, {len(cells)} cells: pandas .loc {loc_s:.3f} s, NumPy {numpy_s:.4f} s "
          f"(×{loc_s / numpy_s:.0f} faster; one of the three grids a province's file fills; {load()})")


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=root / "results")
    parser.add_argument("--scenarios", type=Path, default=root / "scenarios")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench_catalogue(args.repeat)
    bench_long_grid(args.repeat)
    bench_page(args.results, args.scenarios, args.repeat)


if __name__ == "__main__":
    main()
