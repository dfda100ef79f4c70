"""Input and output in the planners' own layouts (Excel, CSV, dataset folders)."""

from __future__ import annotations

from pathlib import Path

from ntm_sim.data.dataset import Dataset
from ntm_sim.errors import InputError, Problem, Text

__all__ = ["read_any"]


def read_any(path: Path, **kwargs: object) -> Dataset:
    """Read a dataset from a folder, an .xlsx workbook or a tidy long .csv.

    Raises
    ------
    InputError
        With every problem found (file, sheet, row, column, expected).
    """
    from ntm_sim.data.io.excel import read_workbook
    from ntm_sim.data.io.folder import read_folder
    from ntm_sim.data.io.longcsv import read_long_csv

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
