"""A scenario folder's own order: ``order.txt`` names the scenarios in the order a committee reads them.

The dashboard's columns, the report and ``make run`` show the bundled scenarios as the folder
orders them (2026–2030 first, then the 2021–2025 baseline and its variants), not by file name.
"""

from __future__ import annotations

from pathlib import Path

ORDER_FILE = "order.txt"  # the scenario folder's own order: one file name a line


def folder_order(folder: Path) -> list[str]:
    """The scenario names of ``folder`` in its own order: ``order.txt`` first, the other files by name.

    ``order.txt`` lists one scenario file a line (with or without ``.yaml``; ``#`` starts a
    comment); names it lists that are not there are skipped.
    """
    stems = sorted(p.stem for p in folder.glob("*.yaml"))
    listed: list[str] = []
    path = folder / ORDER_FILE
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            name = line.split("#", 1)[0].strip().removesuffix(".yaml")
            if name in stems and name not in listed:
                listed.append(name)
    return [*listed, *(s for s in stems if s not in listed)]
