"""Where and who: per-district table, commune × criterion matrix and coordinates agree with the results files."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from ntm_sim.analysis.where import FUNDED, MET, NOT_FUNDED, commune_map, criteria_matrix, district_table
from ntm_sim.data.admin_units import commune_coordinates
from ntm_sim.run.runs import load_run

LAO_CAI_BOX = {"lat": (21.8, 22.9), "lon": (103.5, 104.7)}  # the province's extent, with a margin


@pytest.fixture(scope="module")
def baseline(compare_root):
    return load_run(compare_root / "baseline")


def test_district_table_adds_up_to_the_run(baseline):
    table = district_table(baseline)
    years = baseline.summary["years"]
    plan = pd.read_csv(baseline.folder / "plan.csv", dtype={"district_code": str})
    assert table["communes"].sum() == len(baseline.communes) == 127
    assert table[f"ntm_{years[-1]}"].sum() == baseline.summary["communes_ntm"]
    for y in years:  # cumulative counts per year add up to the province's
        assert table[f"ntm_{y}"].sum() == baseline.summary["communes_ntm_by_year"][str(y)]
    assert table["plan_bn_vnd"].sum() == pytest.approx(plan["amount_mvnd"].sum() / 1000)
    assert (table["not_reached"] + table[f"ntm_{years[-1]}"] == table["communes"]).all()
    reached = set(table.loc[table["unit_reached"], "district_code"])
    assert reached == set(baseline.summary["district_units"])
    assert set(table.loc[table["unit_target"], "district_code"]) == {
        k.split(":")[1] for k in baseline.summary["targets"] if k.startswith("district_units:")}
    sim = pd.read_csv(baseline.folder / "simulation" / "communes.csv", dtype={"commune_code": str})
    sim = sim[sim["plan"] == "recommended"]
    horizon = f"p_ntm_{years[-1]}"
    bat_xat = table.set_index("district").at["Huyện Bát Xát", "mean_chance"]
    assert bat_xat == pytest.approx(sim.loc[sim["district"] == "Huyện Bát Xát", horizon].mean())


def test_district_table_says_there_is_no_simulation(compare_root):
    table = district_table(load_run(compare_root / "budget_cut_20"))
    assert table["mean_chance"].isna().all()
    assert table["plan_bn_vnd"].gt(0).all()


def test_criteria_matrix_agrees_with_plan_and_communes(baseline):
    matrix = criteria_matrix(baseline)
    communes = baseline.communes.assign(commune_code=baseline.communes["commune_code"].astype(str))
    assert len(matrix) == 127 * 19
    assert matrix["district"].tolist() == sorted(matrix["district"], key=matrix["district"].drop_duplicates()
                                                 .tolist().index)  # grouped by district
    plan = pd.read_csv(baseline.folder / "plan.csv", dtype={"commune_code": str})
    items = plan[plan["kind"] == "criterion"]
    funded = matrix[matrix["status"] == FUNDED]
    assert len(funded) == items.groupby(["commune_code", "criterion"]).ngroups
    cell = funded[funded["start_year"] == 2023].iloc[0]  # a cell "funded in 2023" is a plan row
    rows = items[(items["commune_code"] == cell["commune_code"]) & (items["criterion"] == cell["criterion"])]
    assert rows["start_year"].min() == 2023
    assert rows["amount_mvnd"].sum() == pytest.approx(cell["amount_mvnd"])
    met = matrix[matrix["status"] == MET].groupby("commune_code").size()
    assert (communes.set_index("commune_code")["criteria_met_baseline"] == met.reindex(communes["commune_code"])
            .fillna(0)).all()
    short = matrix[matrix["status"] == NOT_FUNDED]
    expected = {(str(c), k) for c, m in zip(communes["commune_code"], communes["missing_criteria"], strict=True)
                if isinstance(m, str) for k in re.split(r"[;,\s]+", m) if k}
    assert set(zip(short["commune_code"], short["criterion"], strict=True)) == expected


def test_coordinates_of_lao_cai_communes(lao_cai):
    codes = lao_cai.communes.index
    found = commune_coordinates(["0" + str(c).zfill(4) if len(str(c)) == 4 else c for c in codes])
    assert found["commune_code"].tolist() == [str(int(c)) for c in codes]  # '02659' and 2659 are one commune
    missing = found.loc[~found["found"], "commune_code"].tolist()
    assert missing == ["2872"]  # Tà Chải, merged before 2025: named, not dropped
    inside = found[found["found"]]
    assert inside["lat"].between(*LAO_CAI_BOX["lat"]).all()
    assert inside["lon"].between(*LAO_CAI_BOX["lon"]).all()
    assert len(inside) == 126


def test_commune_map_keeps_every_commune(baseline):
    points = commune_map(baseline)
    assert len(points) == 127
    assert (~points["found"]).sum() == 1
    start = int(baseline.summary["years"][0])
    assert (points["stage"] == "start").sum() == (baseline.communes["year_ntm"] < start).sum()
    assert (points["stage"] == "never").sum() == 127 - baseline.summary["communes_ntm"]
    assert points["chance"].between(0, 1).all()


def test_a_province_without_districts_has_its_communes_and_says_it_has_no_districts(small_run):
    """The merged province of 2026–2030 has no districts (two-tier government since 1 July 2025).

    Its district tab once failed (``KeyError: 'district_code'``), its matrix too (Bokeh refused NaN
    district factors), and the report's commune table printed "NaN" as each commune's district.
    """
    import panel as pn

    from ntm_sim.dashboard.communes import CommuneTable, commune_table
    from ntm_sim.dashboard.where import district_view, matrix_view
    from ntm_sim.messages import Catalogue
    from ntm_sim.present.plots import matrix_chart
    from ntm_sim.present.report_html import communes_frame
    from ntm_sim.present.report_page import build_report

    run = load_run(small_run)
    assert run.communes["district"].isna().all()
    table = district_table(run)
    assert table.empty
    assert {"district", "ntm_2030", "plan_bn_vnd", "mean_chance", "unit_target", "unit_reached"} <= set(table)
    matrix = criteria_matrix(run)
    assert (matrix["district"] == "").all()
    assert matrix["commune_code"].nunique() == len(run.communes) == 89
    t = Catalogue("en")
    fig = matrix_chart(matrix, t)
    assert all(isinstance(f, str) for f in fig.y_range.factors)  # one level: the communes
    assert len(fig.y_range.factors) == len(set(matrix["commune_name"]))
    note = district_view(run, t)
    assert "no districts" in note.object
    assert "district-none" in note.object
    assert isinstance(matrix_view(run, t), pn.Column)
    assert "Huyện" not in communes_frame(run)  # no empty district column in the committee's report
    report = build_report([run])
    assert not re.search(r">\s*(NaN|nan)\s*<", report)  # no cell of the report says NaN
    assert "nan" not in communes_frame(run).to_string()
    assert (commune_table(run, t)[t("table.district")] == "").all()
    assert not CommuneTable(run, t).district.visible  # no district to filter by
