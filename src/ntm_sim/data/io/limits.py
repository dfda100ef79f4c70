"""How much of an input file the tool will read: limits against hostile or broken files.

Planners upload workbooks and CSV files from anywhere, so a file must never decide how
much memory or time the tool spends. A workbook declares its own size (the sheet's
``<dimension>``, the zip's sizes) and may lie; these limits are checked on what is
actually read, and a file that passes one is refused with an
:class:`~ntm_sim.errors.InputError` that names the limit, never a traceback or a
``MemoryError``.

Each limit leaves wide room over the real layouts. For scale: the bundled Lào Cai
workbook (``ntm-sim data export``: 127 communes × 19 criteria, six sheets) unpacks to
0.4 MB, its status sheet to 180 kB (142 rows × 23 columns). The same export of a
national dataset (10,000 communes, ``ntm_sim.data.synthetic.national_dataset``) is a 2.7 MB
workbook whose status sheet has 10,876 rows × 23 columns (250,000 cells, 14 MB of XML);
its tidy long CSV (one row per commune × criterion, 8 columns) has 190,001 lines,
1.5 million fields, 9.3 MB.

Memory is what the limits bound first. Measured on a shared, busy 2-core machine: a
workbook at the cell limits (two sheets of a million cells, 2 × 49 MB of sheet XML)
is read in 200 MB and 2.5 minutes, a national workbook in 125 MB and 40 s; the
far-cell and zip-bomb files of ``tests/test_hostile_input.py`` are refused in under
100 MB and 2 s (the test fails above 1 GB, in a process capped at 1.5 GiB).
"""

from __future__ import annotations

MIB = 1 << 20

# ----- the .xlsx file as a zip archive (checked from the central directory before
# openpyxl opens anything; zipfile never inflates a member past its declared size) ----

#: Largest .xlsx file on disk (compressed). A national workbook is 2.7 MB.
MAX_XLSX_FILE_BYTES = 64 * MIB

#: Most members in the zip (a workbook has 15–50; each costs memory to list).
MAX_ZIP_MEMBERS = 1_000

#: Largest unpacked worksheet part (``xl/worksheets/*.xml``), which is streamed (so it
#: costs time, not memory): four times a national sheet.
MAX_SHEET_PART_BYTES = 64 * MIB

#: Largest unpacked other part (shared strings, styles, workbook, drawings, images…).
#: openpyxl parses these whole, so they are held tighter; a national workbook's
#: shared strings are under 1 MB, the worst bloated real styles about 10 MB.
MAX_OTHER_PART_BYTES = 16 * MIB

#: Largest unpacked total of all members.
MAX_UNPACKED_BYTES = 256 * MIB

#: Highest unpacked/packed size ratio of a member above :data:`RATIO_CHECK_BYTES`.
#: The sheets measured here pack 7–16 times (formatted empty rows pack more); deflate
#: cannot pass about 1,030, which zip bombs approach.
MAX_COMPRESSION_RATIO = 200

#: Members smaller than this unpacked are not ratio-checked (tiny parts pack oddly).
RATIO_CHECK_BYTES = 1 * MIB

# ----- a worksheet as read (its declared dimension is ignored) -------------------------

#: Highest row number that may hold a value (a national sheet has 10,876 rows).
MAX_SHEET_ROWS = 100_000

#: Highest column number that may hold a value (column ALL; the layouts use up to 23).
MAX_SHEET_COLUMNS = 1_000

#: Most cells kept for one sheet: each row is kept up to its last value, so this counts
#: the cells up to there, plus formula cells without a saved result. Four times a
#: national status sheet (250,000).
MAX_SHEET_CELLS = 1_000_000

#: Most cells kept for all sheets of a workbook together: three times a national
#: workbook (status, cost, communes, districts, sources: about 700,000).
MAX_WORKBOOK_CELLS = 2_000_000

#: Most merged ranges in one sheet (the exported status sheet has 8; a sheet that merges
#: every district row of a country would have about 1,000).
MAX_MERGED_RANGES = 100_000

# ----- CSV files -----------------------------------------------------------------------

#: Largest CSV file, refused by its size before it is read (national long CSV: 9.3 MB).
MAX_CSV_BYTES = 32 * MIB

#: Most lines in a CSV file, blank ones included (national long CSV: 190,001).
MAX_CSV_ROWS = 500_000

#: Most fields in one CSV line (the long layout has 8).
MAX_CSV_COLUMNS = 1_000

#: Most fields in a CSV file (national long CSV: 1.5 million).
MAX_CSV_CELLS = 4_000_000

# ----- messages ------------------------------------------------------------------------

#: At most this many cells are named one by one in a message about many cells.
MAX_CELLS_LISTED = 20

#: Where the limits live, for messages.
WHERE = "limits in ntm_sim.data.io.limits"


def size_text(n: int) -> str:
    """Return a byte count as people read it (``128 MiB``, ``1.5 GiB``, ``420 kB``)."""
    if n >= 1 << 30:
        return f"{n / (1 << 30):.1f} GiB"
    if n >= MIB:
        return f"{n / MIB:.0f} MiB" if n % MIB == 0 or n >= 10 * MIB else f"{n / MIB:.1f} MiB"
    if n >= 1000:
        return f"{n / 1000:.0f} kB"
    return f"{n} bytes"


def count_text(n: int) -> str:
    """Return a count with thousands separators (``100,000``)."""
    return f"{n:,}"
