"""Never trust a hostile file: a corpus of workbooks and CSV files built to exhaust the reader.

Every file is built in ``tmp_path`` and cheaply: the 1 GiB zip bomb repeats one deflate
block compressed once (the zip is written by hand), the far cell is a single cell. The
far-cell workbook and the zip bomb are validated in a real process whose address space
is capped at 1.5 GiB and whose peak memory must stay under 1 GB, so that a regression
fails rather than swaps (the old reader ran out of that cap after 50 s on the far cell,
and accepted the bomb at 1.2 GB). Everything else goes through ``ntm-sim validate`` or
the readers in-process, with the test process's own address space capped as well.
"""

from __future__ import annotations

import codecs
import os
import resource
import struct
import subprocess
import sys
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import PatternFill
from typer.testing import CliRunner

from ntm_sim.cli import EXIT_INPUT, app
from ntm_sim.data.dataset import bundled_path
from ntm_sim.data.io import limits
from ntm_sim.data.io.tables import read_csv_grid
from ntm_sim.data.io.xlsx import open_workbook
from ntm_sim.errors import InputError

pytestmark = pytest.mark.usefixtures("english")  # these tests read the problems' English texts

Rows = list[list[object]]

TC = [f"TC{i}" for i in range(1, 20)]
MET = ["Đạt"] * 12 + ["Chưa đạt"] * 7  # TC13…TC19 (columns P…V) not met
COMMUNES = [(2911, "Xã Bản Phiệt"), (2914, "Xã Bản Cầm"), (2917, "Xã Thái Niên")]
STATUS, COST = "Kết quả tiêu chí", "Nhu cầu vốn"
GIB = 1 << 30
MEMORY_CAP = 3 * GIB // 2  # address space of the measured process
PEAK_LIMIT = GIB  # its resident peak must stay below this


def _address_space() -> int | None:
    """This process's mapped memory in bytes (Linux), None where it cannot be read."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    return next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmSize:")), None)


@pytest.fixture(autouse=True)
def _memory_guard() -> Iterator[None]:
    """Cap the test process too, so that a reader that regresses fails with MemoryError, not swapping."""
    used = _address_space()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if used is None:
        yield
        return
    cap = used + MEMORY_CAP if hard == resource.RLIM_INFINITY else min(used + MEMORY_CAP, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# ----- builders --------------------------------------------------------------------------


def status_rows() -> Rows:
    """Title in row 1, header in row 2, communes in rows 3–5."""
    return [["BIỂU TỔNG HỢP KẾT QUẢ THỰC HIỆN BỘ TIÊU CHÍ XÃ NÔNG THÔN MỚI"], ["STT", "Đơn vị", "Mã xã", *TC],
            *[[k, name, code, *MET] for k, (code, name) in enumerate(COMMUNES, start=1)]]


def formula_cost_rows() -> Rows:
    """Cost sheet whose unmet cells are formulas, never calculated (openpyxl saves no results)."""
    body = [[k, name, code, *[f"={100 * (n + 1)}*1" if m == "Chưa đạt" else None for n, m in enumerate(MET)]]
            for k, (code, name) in enumerate(COMMUNES, start=1)]
    return [["NHU CẦU VỐN ĐỂ HOÀN THÀNH CÁC TIÊU CHÍ CHƯA ĐẠT (triệu đồng)"], ["STT", "Đơn vị", "Mã xã", *TC], *body]


def save_xlsx(path: Path, sheets: dict[str, Rows], far: tuple[int, int, object] | None = None) -> Path:
    """Write sheets cell by cell; ``far`` = (row, column, value) puts one more cell on the first sheet."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=i, column=j, value=value)
    if far is not None:
        row, col, value = far
        cell = wb.worksheets[0].cell(row=row, column=col, value=value)
        cell.fill = PatternFill("solid", fgColor="FFFF00")  # written even when the value is None
    wb.save(path)
    return path


def write_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """Write a zip by hand from raw deflate streams: (name, deflated, CRC-32, unpacked size)."""
    central = bytearray()
    with path.open("wb") as f:
        for name, data, crc, size in members:
            offset, fname = f.tell(), name.encode()
            f.write(struct.pack("<I5H3I2H", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(fname), 0))
            f.write(fname + data)
            central += struct.pack("<I6H3I5H2I", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                                   len(fname), 0, 0, 0, 0, 0, offset) + fname
        start = f.tell()
        f.write(central)
        f.write(struct.pack("<I4H2IH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0))
    return path


def deflate(data: bytes) -> tuple[bytes, int, int]:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(), zlib.crc32(data), len(data)


BLANKS = b" " * (1 << 20)


def padded(xml: bytes, mib: int) -> tuple[bytes, int, int]:
    """A sheet's XML with ``mib`` MiB of blanks before ``</sheetData>``, deflated cheaply.

    The blanks are compressed once after a full flush, so every copy of that block
    inflates to the same MiB on its own: the stream is real, and costs a CRC to build.
    """
    head, tail = xml.split(b"</sheetData>")
    tail = b"</sheetData>" + tail
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(BLANKS) + c.flush(zlib.Z_FULL_FLUSH)
    data = start + block * mib + c.compress(tail) + c.flush()
    crc = zlib.crc32(head)
    for _ in range(mib):
        crc = zlib.crc32(BLANKS, crc)
    return data, zlib.crc32(tail, crc), len(head) + mib * len(BLANKS) + len(tail)


def zip_bomb(path: Path, base: Path, mib: int, declared: int | None = None) -> Path:
    """The workbook ``base`` with its first sheet blown up by ``mib`` MiB of blanks.

    ``declared`` makes the zip's directory lie about the sheet's unpacked size.
    """
    members = []
    with zipfile.ZipFile(base) as z:
        for name in z.namelist():
            if name == "xl/worksheets/sheet1.xml":
                data, crc, size = padded(z.read(name), mib)
                members.append((name, data, crc, declared or size))
            else:
                members.append((name, *deflate(z.read(name))))
    return write_zip(path, members)


def to_cp1258(text: str) -> str:
    """Spell Vietnamese as Windows-1258 can: letters it has, then a combining tone mark."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            ch.encode("cp1258")
            out.append(ch)
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            tone = next(m for m in d if m in "\u0300\u0301\u0303\u0309\u0323")
            out.append(unicodedata.normalize("NFC", d.replace(tone, "")) + tone)
    return "".join(out)


def encoded(text: str, encoding: str) -> bytes:
    """The bytes of a CSV file saved in one of the ways offices save them."""
    if encoding == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    if encoding == "utf-16-tab":  # Excel's "Unicode text": UTF-16 LE with a mark, tabs
        return text.replace(",", "\t").encode("utf-16")
    if encoding == "cp1258":
        return to_cp1258(text).encode("cp1258")
    return text.encode(encoding)


def bundled_long_csv() -> str:
    """The bundled Lào Cai status in the tidy long layout (one row per commune × criterion)."""
    return (bundled_path("lao_cai") / "criteria_status.csv").read_text(encoding="utf-8")


# ----- running ---------------------------------------------------------------------------


def validate(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def validate_measured(path: Path, timeout: float = 60) -> tuple[int, str, int, float]:
    """Run ``ntm-sim validate`` in a process capped at 1.5 GiB; return code, output, peak bytes, seconds."""
    out = path.parent / f"{path.name}.out"
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    start = time.monotonic()
    with out.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "ntm_sim", "validate", str(path)], stdout=sink,
                                stderr=subprocess.STDOUT, preexec_fn=_cap_memory, env=env)
        while True:  # wait4 gives this child's own peak, not the largest of every child so far
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                pytest.fail(f"validate {path.name} still running after {timeout:.0f} s")
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, out.read_text(encoding="utf-8", errors="replace"), usage.ru_maxrss * 1024, \
        time.monotonic() - start


# ----- workbooks -------------------------------------------------------------------------


def test_value_at_xfd1048576_is_refused_cheaply(tmp_path: Path) -> None:
    path = save_xlsx(tmp_path / "far.xlsx", {STATUS: status_rows()}, far=(1_048_576, 16_384, "x"))
    code, output, peak, seconds = validate_measured(path)
    assert code == EXIT_INPUT, output
    assert "far.xlsx, sheet 'Kết quả tiêu chí', row 1048576, column XFD" in output
    assert "XFD1048576" in output
    assert "100,000 rows" in output
    assert "1,000 columns" in output
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB in {seconds:.1f} s"


def test_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    base = save_xlsx(tmp_path / "base.xlsx", {STATUS: status_rows()})
    path = zip_bomb(tmp_path / "bomb.xlsx", base, mib=1024)
    assert path.stat().st_size < 2 << 20  # 1 GiB of sheet in about 1 MB
    assert zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size > GIB
    code, output, peak, seconds = validate_measured(path)
    assert code == EXIT_INPUT, output
    assert "bomb.xlsx: part xl/worksheets/sheet1.xml would unpack to 1.0 GiB" in output
    assert f"at most {limits.size_text(limits.MAX_SHEET_PART_BYTES)} a part" in output
    assert peak < PEAK_LIMIT, f"peak {peak / 2**20:.0f} MiB in {seconds:.1f} s"


def test_zip_bomb_is_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the cheap construction inflates to what it claims (CRC checked by zipfile at the end)
    base = save_xlsx(tmp_path / "base.xlsx", {STATUS: status_rows()})
    path = zip_bomb(tmp_path / "small_bomb.xlsx", base, mib=3)
    with zipfile.ZipFile(path) as z, z.open("xl/worksheets/sheet1.xml") as f:
        size = sum(len(chunk) for chunk in iter(lambda: f.read(1 << 20), b""))
    assert size > 3 << 20
    with pytest.raises(InputError, match="zip bomb"):  # 3 MiB in 4 kB is refused by its ratio…
        open_workbook(path, "small_bomb.xlsx")
    monkeypatch.setattr(limits, "MAX_COMPRESSION_RATIO", 10_000)  # … and is a workbook all the same
    assert open_workbook(path, "small_bomb.xlsx")[STATUS].cell(2, 1) == "Xã Bản Phiệt"


def test_packing_ratio_of_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    # 32 MiB is within the size limit of a sheet part; packed a thousand times it is no sheet
    base = save_xlsx(tmp_path / "base.xlsx", {STATUS: status_rows()})
    assert 32 << 20 < limits.MAX_SHEET_PART_BYTES
    code, output = validate(zip_bomb(tmp_path / "dense.xlsx", base, mib=32))
    assert code == EXIT_INPUT, output
    assert "dense.xlsx: part xl/worksheets/sheet1.xml would unpack" in output
    assert "zip bomb" in output
    assert f"ratio of at most {limits.MAX_COMPRESSION_RATIO}" in output


def test_zip_that_lies_about_its_sizes_is_refused(tmp_path: Path) -> None:
    # the directory says 2 MiB of the 32 MiB; zipfile stops there, the sheet's XML is cut off
    base = save_xlsx(tmp_path / "base.xlsx", {STATUS: status_rows()})
    code, output = validate(zip_bomb(tmp_path / "liar.xlsx", base, mib=32, declared=2 << 20))
    assert code == EXIT_INPUT, output
    assert "liar.xlsx, sheet 'Kết quả tiêu chí'" in output
    assert "cannot be read" in output


@pytest.mark.parametrize(("suffix", "limit"), [(".xlsx", limits.MAX_XLSX_FILE_BYTES), (".csv", limits.MAX_CSV_BYTES)])
def test_oversized_file_is_refused_by_its_size(tmp_path: Path, suffix: str, limit: int) -> None:
    path = tmp_path / f"big{suffix}"
    with path.open("wb") as f:
        f.truncate(limit + 1)  # sparse: no disk used, and never read
    code, output = validate(path)
    assert code == EXIT_INPUT, output
    assert f"big{suffix}: file is too large to read" in output
    assert limits.size_text(limit) in output


def test_styled_empty_far_cell_costs_nothing(tmp_path: Path) -> None:
    # Excel writes formatted empty cells; one at XFD1048576 is read past and costs nothing
    path = save_xlsx(tmp_path / "styled.xlsx", {STATUS: status_rows()}, far=(1_048_576, 16_384, None))
    grid = open_workbook(path, "styled.xlsx")[STATUS]
    assert (len(grid.rows), grid.width) == (5, 22)
    code, output = validate(path)
    assert code == 0, output


@pytest.mark.parametrize(("row", "col", "ok"), [(100_000, 1, True), (1, 1_000, True), (100_001, 1, False),
                                                (1, 1_001, False)])
def test_area_read_ends_at_the_limits(tmp_path: Path, row: int, col: int, ok: bool) -> None:
    path = save_xlsx(tmp_path / "edge.xlsx", {"Ghi chú": [["ghi chú"]]}, far=(row, col, 1))
    if ok:
        grid = open_workbook(path, "edge.xlsx")["Ghi chú"]
        assert (len(grid.rows), grid.width) == (row, col)
        return
    with pytest.raises(InputError) as info:
        open_workbook(path, "edge.xlsx")
    (problem,) = info.value.errors
    assert (problem.sheet, problem.row) == ("Ghi chú", row)
    assert "outside the area the tool reads" in problem.message


def test_cell_limits_hold_for_a_sheet_and_a_workbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_xlsx(tmp_path / "cells.xlsx", {STATUS: status_rows(), "Bản sao": status_rows()})
    monkeypatch.setattr(limits, "MAX_SHEET_CELLS", 50)  # each sheet keeps 1 + 22 + 3 × 22 = 89 cells
    with pytest.raises(InputError, match="more cells than the tool reads from a sheet"):
        open_workbook(path, "cells.xlsx")
    monkeypatch.setattr(limits, "MAX_SHEET_CELLS", 100)
    monkeypatch.setattr(limits, "MAX_WORKBOOK_CELLS", 150)
    with pytest.raises(InputError, match="more cells than the tool reads from a workbook") as info:
        open_workbook(path, "cells.xlsx")
    assert info.value.errors[0].sheet == "Bản sao"


def test_two_status_sheets_are_an_error_naming_both(tmp_path: Path) -> None:
    path = save_xlsx(tmp_path / "two.xlsx", {STATUS: status_rows(), "Kết quả tiêu chí 2022": status_rows()})
    code, output = validate(path)
    assert code == EXIT_INPUT, output
    assert "two.xlsx, sheet 'Kết quả tiêu chí 2022', row 2: 2 sheets hold a criterion status table" in output
    assert "'Kết quả tiêu chí' and 'Kết quả tiêu chí 2022'" in output


def test_cost_formulas_without_saved_results_are_errors_by_cell(tmp_path: Path) -> None:
    path = save_xlsx(tmp_path / "formulas.xlsx", {STATUS: status_rows(), COST: formula_cost_rows()})
    code, output = validate(path)
    assert code == EXIT_INPUT, output
    # 3 communes × 7 unmet criteria: the first 20 by place, then a count and the rest named
    assert "formulas.xlsx, sheet 'Nhu cầu vốn', row 3, column P (TC13): cost for TC13 is a formula whose " \
           "result was never saved" in output
    assert output.count("is a formula whose result was never saved") == limits.MAX_CELLS_LISTED
    assert "… and 1 more cost cells hold formulas whose results were never saved (V5)" in output
    assert "open the workbook in Excel or LibreOffice and save it" in output


# ----- CSV -------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "name"), [
    ("utf-8-sig", "UTF-8"), ("utf-16", "UTF-16 LE"), ("utf-16-be-bom", "UTF-16 BE"),
    ("utf-16-le", "UTF-16 LE"), ("utf-16-tab", "UTF-16 LE"), ("cp1258", "Windows-1258 (Vietnamese)"),
])
def test_csv_encoding_is_detected(tmp_path: Path, encoding: str, name: str) -> None:
    text = bundled_long_csv()
    plain = read_csv_grid(bundled_path("lao_cai") / "criteria_status.csv")
    path = tmp_path / "long.csv"
    path.write_bytes(encoded(text, encoding))
    grid = read_csv_grid(path)
    assert grid.encoding == name
    nfc = [[unicodedata.normalize("NFC", str(v)) for v in row] for row in grid.rows]
    assert nfc == plain.rows
    warned = [p.message for p in grid.log().problems]
    assert warned == ([f"not UTF-8: read as {name}; check that Vietnamese letters are right"]
                      if encoding == "cp1258" else [])


def test_utf16_csv_of_the_bundled_data_validates(tmp_path: Path) -> None:
    lines = bundled_long_csv().splitlines(keepends=True)
    path = tmp_path / "unicode.csv"
    path.write_bytes(encoded("".join(lines[:1 + 5 * 19]), "utf-16"))  # five communes
    code, output = validate(path)
    assert code == 0, output
    assert "unicode.csv: OK" in output


def test_legacy_encoding_is_named_beside_the_errors(tmp_path: Path) -> None:
    lines = bundled_long_csv().splitlines(keepends=True)
    lines[3] = lines[3].replace("TC3", "TC33")
    path = tmp_path / "legacy.csv"
    path.write_bytes(encoded("".join(lines[:1 + 19]), "cp1258"))
    code, output = validate(path)
    assert code == EXIT_INPUT, output
    assert "legacy.csv, row 4, column criterion: unknown criterion" in output
    assert "legacy.csv: not UTF-8: read as Windows-1258 (Vietnamese)" in output


def test_csv_limits_and_broken_csv_are_input_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "long.csv"
    path.write_text(bundled_long_csv(), encoding="utf-8")
    monkeypatch.setattr(limits, "MAX_CSV_ROWS", 1_000)
    with pytest.raises(InputError, match="more data than the tool reads from a CSV file") as info:
        read_csv_grid(path)
    assert info.value.errors[0].row == 1_001
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b'commune_code,criterion,met\n2911,TC1,"' + b"x" * 200_000 + b'"\n')
    with pytest.raises(InputError, match="cannot be read as CSV") as info:
        read_csv_grid(huge)
    assert info.value.errors[0].row == 2
