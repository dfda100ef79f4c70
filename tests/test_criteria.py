from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from ntm_sim.data.criteria import available_sets, load_criteria_set
from ntm_sim.data.dataset import make_dataset
from ntm_sim.errors import InputError


def test_qd318_set_loads(criteria):
    assert len(criteria) == 19
    assert criteria.ids[0] == "TC1"
    assert criteria.ids[-1] == "TC19"
    assert {g.id for g in criteria.groups} == {c.group for c in criteria.criteria}
    assert len(criteria.groups) == 5
    kinds = {c.id: c.kind for c in criteria.criteria}
    assert kinds["TC2"] == "infrastructure"
    assert kinds["TC10"] == "development"
    assert kinds["TC19"] == "governance"
    assert [t.id for t in criteria.tiers] == ["ntm", "advanced", "model"]
    assert criteria.district_tiers[0].min_share_communes_advanced == pytest.approx(0.10)
    assert "qd318-2021-2025" in available_sets()


def test_names_have_vietnamese_diacritics(criteria):
    assert criteria["TC3"].name_vi == "Thủy lợi và phòng, chống thiên tai"
    assert criteria["TC11"].name_vi == "Nghèo đa chiều"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (10, "TC10"), (10.0, "TC10"), ("10", "TC10"), ("TC10", "TC10"), ("tc 10", "TC10"),
        ("Tiêu chí 10", "TC10"), ("Tiêu chí số 10", "TC10"), ("Thu nhập", "TC10"),
        ("THU NHẬP", "TC10"), ("Thu nhap", "TC10"), ("10. Thu nhập", "TC10"),
        ("TC3 - Thủy lợi", "TC3"), ("Nghèo đa chiều", "TC11"),
        # decomposed (NFD) text as some Excel files hold it
        ("Thu nha\u0323\u0302p", "TC10"),
        ("Kết quả", None), ("", None), (None, None), (25, None), ("Tổng", None),
        ("10. Giao thông", None),  # number and name disagree: not guessed
    ],
)
def test_header_matching(criteria, header, expected):
    assert criteria.match(header) == expected


def test_commune_groups(criteria):
    assert criteria.group_of(19).id == "ntm"
    assert criteria.group_of(18).id == "g15_18"
    assert criteria.group_of(15).id == "g15_18"
    assert criteria.group_of(14).id == "g10_14"
    assert criteria.group_of(10).id == "g10_14"
    assert criteria.group_of(9).id == "lt10"
    assert criteria.group_of(0).id == "lt10"


def test_another_set_needs_no_code_change(tmp_path):
    """A 10-criterion set (like the 2026–2030 one) loads from a file and drives a dataset."""
    crits = "\n".join(
        f"  - {{id: K{i}, number: {i}, group: g, kind: {'infrastructure' if i < 5 else 'development'}, "
        f"lead_time_years: 1, name_vi: Tiêu chí thử {i}, name_en: Test {i}}}"
        for i in range(1, 11)
    )
    text = textwrap.dedent("""\
        id: test-2026
        version: "1"
        name_vi: Bộ thử
        name_en: Test set
        source: test
        period: [2026, 2030]
        groups: [{id: g, number: 1, name_vi: Nhóm, name_en: Group}]
        kinds:
          - {id: infrastructure, name_vi: Hạ tầng, name_en: Infrastructure}
          - {id: development, name_vi: Phát triển, name_en: Development}
          - {id: governance, name_vi: Quản trị, name_en: Governance}
        criteria:
        """) + crits + textwrap.dedent("""
        tiers:
          - {id: ntm, name_vi: NTM, name_en: NTM, requires: all_criteria}
        district_tiers: []
        commune_groups:
          - {id: ntm, name_vi: Đạt, name_en: Met, min_met: all, d07_coefficient: 1}
          - {id: rest, name_vi: Còn lại, name_en: Rest, min_met: 0, max_met: 9, d07_coefficient: 4}
        """)
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    crit = load_criteria_set(path)
    assert len(crit) == 10
    assert crit.match("Tiêu chí 7") == "K7"
    status = pd.DataFrame(True, index=["1", "2"], columns=crit.ids)
    status.loc["2", ["K1", "K9"]] = False
    communes = pd.DataFrame({"commune_name": ["A", "B"], "district_code": ["9", "9"],
                             "district_name": ["D", "D"]}, index=["1", "2"])
    ds = make_dataset(crit, communes, status)
    assert ds.criteria_met.tolist() == [10, 8]
    assert ds.commune_group.tolist() == ["ntm", "rest"]
    assert ds.cost_estimated.loc["2", "K1"]  # no unit cost known for K1: estimated (NaN)


def test_bad_criteria_file_is_rejected(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\nversion: '1'\n", encoding="utf-8")
    # a clear message naming the file and each missing key, not a traceback
    with pytest.raises(InputError) as err:
        load_criteria_set(path)
    assert str(path) in str(err.value)
    assert "key 'criteria': Field required" in str(err.value)
