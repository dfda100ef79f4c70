"""Uploaded planner files: kept only when they load, problems named, the manifest points at the kept file."""

from __future__ import annotations

import openpyxl
import pytest

from ntm_sim.data.io.excel_write import write_workbook
from ntm_sim.errors import InputError
from ntm_sim.run.workflow import dataset_from_upload


@pytest.fixture(scope="module")
def workbook(tmp_path_factory, lao_cai) -> bytes:
    path = tmp_path_factory.mktemp("wb") / "lc.xlsx"
    write_workbook(lao_cai, path)
    return path.read_bytes()


def test_a_good_file_is_kept_and_named(workbook, tmp_path, lao_cai):
    ds, path = dataset_from_upload("so_lieu.xlsx", workbook, tmp_path / "uploads" / "run1")
    assert path == tmp_path / "uploads" / "run1" / "so_lieu.xlsx"
    assert path.read_bytes() == workbook
    assert ds.meta.source == str(path)
    assert ds.content_hash() == lao_cai.content_hash()
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == ["run1"]  # no scratch folder left


def test_a_broken_file_is_named_and_not_kept(workbook, tmp_path):
    import io

    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    wb["Kết quả tiêu chí"]["E9"] = "có lẽ"
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(InputError) as err:
        dataset_from_upload("so_lieu.xlsx", buf.getvalue(), tmp_path / "uploads" / "run2")
    assert "so_lieu.xlsx, sheet 'Kết quả tiêu chí', row 9, column E" in str(err.value)
    assert list((tmp_path / "uploads").iterdir()) == []


def test_a_file_of_another_kind_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"report.pdf: file type not accepted.*found '.pdf'"):
        dataset_from_upload("report.pdf", b"%PDF", tmp_path / "u" / "r")
    assert not (tmp_path / "u").exists()
