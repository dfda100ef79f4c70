"""Input and output in the planners' own layouts (Excel, CSV, dataset folders)."""

from __future__ import annotations

from pathlib import Path

from ntm_sim.dataset import BUILT, BUNDLED, Dataset, bundled_path
from ntm_sim.errors import InputError, Problem, Text

__all__ = ["BUNDLED", "load_dataset", "read_any"]


def load_dataset(source: str | Path = "lao_cai", **kwargs: object) -> Dataset:
    """Load a dataset: a bundled name, a dataset folder, an Excel workbook or a CSV.

    Parameters
    ----------
    source
        ``"lao_cai"`` (bundled), ``"lao_cai_2026"`` (the merged province, built from it), a
        folder written by :func:`ntm_sim.io.folder.write_folder`, an ``.xlsx`` workbook in the
        planners' layout, or a tidy long ``.csv``.
    **kwargs
        Passed to the reader (for example ``units=`` for the reference unit list).

    Raises
    ------
    InputError
        With every problem found, each naming file, sheet, row and column.
    """
    text = str(source)
    if text.startswith("bundled:"):
        text = text.split(":", 1)[1]
    if text in BUILT:
        from ntm_sim.demo2026 import lao_cai_2026

        return lao_cai_2026()
    if text in BUNDLED:
        from ntm_sim.io.folder import read_folder

        return read_folder(bundled_path(text))
    return read_any(Path(text), **kwargs)  # type: ignore[arg-type]


def read_any(path: Path, **kwargs: object) -> Dataset:
    """Read a dataset from a folder, an .xlsx workbook or a tidy long .csv.

    Raises
    ------
    InputError
        With every problem found (file, sheet, row, column, expected).
    """
    from ntm_sim.io.excel import read_workbook
    from ntm_sim.io.folder import read_folder
    from ntm_sim.io.longcsv import read_long_csv

    path = Path(path)
    display = str(kwargs.pop("display", path.name))
    if path.is_dir():
        return read_folder(path, display)
    if not path.exists():
        raise InputError([Problem(display, Text("io.file_not_found"))])
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        return read_workbook(path, display=display, **kwargs)  # type: ignore[arg-type]
    if suffix in {".csv", ".txt"}:
        return read_long_csv(path, display=display, **kwargs)  # type: ignore[arg-type]
    raise InputError([Problem(display, Text("io.unsupported_type", suffix=suffix or Text("io.no_suffix")),
                              expected=Text("io.unsupported_type.expected"))])
