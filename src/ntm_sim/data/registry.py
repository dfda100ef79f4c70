"""Every dataset by name: the bundled folders, the datasets built from them, and files a planner brings.

The one place that knows both the readers (:mod:`ntm_sim.data.io`) and the builders
(:mod:`ntm_sim.data.demo2026`), so neither imports the other.
"""

from __future__ import annotations

from pathlib import Path

from ntm_sim.data.dataset import BUILT, BUNDLED, Dataset, bundled_path
from ntm_sim.data.demo2026 import lao_cai_2026
from ntm_sim.data.io import read_any
from ntm_sim.data.io.folder import read_folder

__all__ = ["BUILT", "BUNDLED", "load_dataset"]


def load_dataset(source: str | Path = "lao_cai", **kwargs: object) -> Dataset:
    """Load a dataset: a bundled name, a dataset folder, an Excel workbook or a CSV.

    Parameters
    ----------
    source
        ``"lao_cai"`` (bundled), ``"lao_cai_2026"`` (the merged province, built from it), a
        folder written by :func:`ntm_sim.data.io.folder.write_folder`, an ``.xlsx`` workbook in the
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
        return lao_cai_2026()
    if text in BUNDLED:
        return read_folder(bundled_path(text))
    return read_any(Path(text), **kwargs)  # type: ignore[arg-type]
