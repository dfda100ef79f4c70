from __future__ import annotations

import filecmp

import pytest

from ntm_sim.data import demo, demo_facts
from ntm_sim.data.checks import poverty_criteria, zone3_warnings
from ntm_sim.data.dataset import bundled_path
from ntm_sim.data.units import lao_cai_units
from ntm_sim.text import nfc


def test_bundled_data_is_what_the_generator_writes(tmp_path):
    out = demo_facts.write_bundled(tmp_path / "lao_cai")
    bundled = bundled_path("lao_cai")
    for name in ("dataset.yaml", "communes.csv", "criteria_status.csv", "districts.csv",
                 "sources.csv", "envelopes.csv"):
        assert filecmp.cmp(out / name, bundled / name, shallow=False), name


def test_readme_figures_agree_with_the_data(lao_cai):
    readme = (bundled_path("lao_cai") / "README.md").read_text(encoding="utf-8")
    assert demo_facts.readme_table(lao_cai) in readme
    assert demo_facts.money_table(lao_cai) in readme
    assert demo_facts.fill_readme(readme, lao_cai) == readme
    # every source and every named commune of the generator is in the README, with its basis
    for s in demo.SOURCES:
        assert f"`{s.id}`" in readme
        assert s.basis in readme
    for name in (*demo.NTM_2020_NAMED, *demo.NEAR_2015, *demo.REMOTEST):
        assert nfc(name) in nfc(readme), name
    for fact in ("559,019", "421.84", "2,058", "932.9", "134", "123", "861/QĐ-TTg", "33/2020/QĐ-TTg"):
        assert fact in readme, fact


def test_calibration_targets(lao_cai):
    f = demo_facts.facts(lao_cai)
    for name, (target, tol) in demo.CALIBRATION.items():
        assert abs(getattr(f, name) - target) <= tol, (name, getattr(f, name), target)
    # choices must matter: the need exceeds the money, the plan's +33 is affordable
    assert f.need_to_complete_bn > f.money_total_bn
    assert f.need_cheapest_33_bn < f.money_total_bn
    assert f.money_total_bn > 9200  # "more than 9,200 billion VND"


def test_start_status_and_zone3_rule(lao_cai):
    ds = lao_cai
    c = ds.communes
    names = c["commune_name"].map(nfc)
    ntm_names = set(names[ds.recognised])
    assert {nfc(n) for n in demo.NTM_2020_NAMED} <= ntm_names  # Nàn Sán included
    assert "Nàn Sán" in ntm_names
    # every commune of the recognised district units is recognised
    assert ds.recognised[c["district_code"].isin(demo.RECOGNISED_DISTRICTS)].all()
    # the rule: a Zone III commune is not NTM and misses the poverty criterion
    zone3 = c["especially_difficult"]
    assert not (zone3 & ds.recognised).any()
    assert not ds.status.loc[zone3, poverty_criteria(ds.criteria)].any().any()
    assert ds.warnings == ()
    # placed by remoteness: Lùng Cải (91% poor) is Zone III and among the lowest in criteria
    lung_cai = names.index[names == "Lùng Cải"][0]
    assert zone3[lung_cai]
    assert ds.criteria_met[lung_cai] <= ds.criteria_met[zone3].quantile(0.25)
    # and the highland districts have the fewest criteria met among communes not yet NTM
    open_met = ds.criteria_met[~ds.recognised].groupby(c["district_code"]).mean()
    assert open_met[["83", "84", "85"]].max() < open_met[["87", "89"]].min()


def test_generator_enforces_the_zone3_rule(monkeypatch):
    # a draw that would put a Zone III commune at NTM is refused, not written
    monkeypatch.setattr(demo, "zone3_violations", lambda *a: ["2659"])
    with pytest.raises(ValueError, match="Zone III"):
        demo.generate()


def test_imported_zone3_contradiction_is_a_named_warning(lao_cai, tmp_path):
    c = lao_cai.communes.copy()
    ntm_code = c.index[lao_cai.is_ntm][0]
    c.loc[ntm_code, "especially_difficult"] = True
    ds = lao_cai.with_(communes=c)
    problems = zone3_warnings(ds, "communes.csv")
    assert len(problems) == 2  # NTM, and meets poverty
    assert all(p.severity == "warning" and p.column == "especially_difficult" for p in problems)
    assert all(ntm_code in p.message and "Zone III" in p.message for p in problems)
    # through a planner's folder: read, with the warning attached, not refused
    from ntm_sim.data.io.folder import read_folder, write_folder

    write_folder(ds, tmp_path / "d")
    again = read_folder(tmp_path / "d")
    assert any("Zone III" in p.message for p in again.warnings)


def test_money_by_source_and_year(lao_cai):
    env = lao_cai.envelopes / 1000
    src = lao_cai.sources
    central = [s for s in env.index if s.startswith(("nstw", "ctmtqg"))]
    assert env.loc[central, 2021].sum() == 0  # the programmes were approved in 2021–2022
    assert env.loc["nstw_dtpt"].sum() + env.loc["nstw_sn"].sum() == pytest.approx(596.0, abs=0.01)
    # the three programmes' central money: 6,258.874 over five years, 1,702 in 2023 (873 + 829)
    assert env.loc[central].to_numpy().sum() == pytest.approx(6258.874, abs=0.01)
    assert env.loc[central, 2023].sum() == pytest.approx(1702.0, abs=0.01)
    recurrent = [s for s in central if s.endswith("_sn")]
    assert env.loc[recurrent, 2023].sum() == pytest.approx(829.0, abs=0.01)
    assert {"ctmtqg_1719_sn", "ctmtqg_giam_ngheo_sn"} <= set(recurrent)  # the programmes carry recurrent money
    assert src.loc["ctmtqg_1719", "scope"] == src.loc["ctmtqg_1719_sn", "scope"] == "ĐBKK"
    assert src.loc["ctmtqg_giam_ngheo", "scope"] != ""
    # the province's own money exists in 2021
    assert env[2021].sum() > 0


def test_demo_data_matches_public_units(lao_cai):
    units = lao_cai_units().communes
    assert list(lao_cai.communes.index) == list(units.index)
    assert (lao_cai.communes["commune_name"] == units["commune_name"]).all()
    assert (lao_cai.communes["district_code"] == units["district_code"]).all()


def test_demo_data_shape(lao_cai):
    ds = lao_cai
    assert ds.meta.demo
    assert "MINH HỌA" in ds.meta.demo_label
    # income, poverty, production, environment are the most often missing where not yet NTM; the
    # recognised communes most often lack what the 2024 review found hardest to keep
    missing = (~ds.status[~ds.recognised]).sum().sort_values(ascending=False)
    assert set(missing.index[:4]) == {"TC10", "TC11", "TC13", "TC17"}
    kept = (~ds.status[ds.recognised]).sum().sort_values(ascending=False)
    assert {"TC5", "TC12", "TC15"} <= set(kept.index[:4])
    # especially difficult communes concentrate in the highland districts
    hard = ds.communes.groupby("district_code")["especially_difficult"].mean()
    assert hard[["82", "83", "84", "85", "88"]].min() > hard[["80", "86"]].max()
    # costs are present exactly where criteria are unmet, and not estimated
    assert (ds.cost.notna() == ~ds.status).all().all()
    assert not ds.any_cost_estimated
    assert ds.envelopes.shape == (len(demo.SOURCES), 5)
    named = ds.communes.set_index("commune_name").loc[["Đồng Tuyển", "Bản Sen", "Nậm Mòn"]].index
    assert all(ds.recognised[ds.communes["commune_name"] == n].all() for n in named)


def test_generator_is_seeded():
    a, b = demo.generate(7), demo.generate(7)
    assert a.content_hash() == b.content_hash()
    assert demo.generate(8).content_hash() != a.content_hash()
