from __future__ import annotations

import filecmp

from ntm_sim import demo
from ntm_sim.dataset import bundled_path
from ntm_sim.units import lao_cai_units


def test_bundled_data_is_what_the_generator_writes(tmp_path):
    out = demo.write_bundled(tmp_path / "lao_cai")
    bundled = bundled_path("lao_cai")
    for name in ("dataset.yaml", "communes.csv", "criteria_status.csv", "districts.csv",
                 "sources.csv", "envelopes.csv"):
        assert filecmp.cmp(out / name, bundled / name, shallow=False), name


def test_readme_figures_agree_with_the_data(lao_cai):
    readme = (bundled_path("lao_cai") / "README.md").read_text(encoding="utf-8")
    assert demo.readme_table(lao_cai) in readme


def test_calibration_targets(lao_cai):
    f = demo.facts(lao_cai)
    for name, (target, tol) in demo.CALIBRATION.items():
        assert abs(getattr(f, name) - target) <= tol, (name, getattr(f, name), target)
    # choices must matter: the need exceeds the money, the plan's +37 is affordable
    assert f.need_to_complete_bn > f.money_total_bn
    assert f.need_cheapest_37_bn < f.money_total_bn


def test_demo_data_matches_public_units(lao_cai):
    units = lao_cai_units().communes
    assert list(lao_cai.communes.index) == list(units.index)
    assert (lao_cai.communes["commune_name"] == units["commune_name"]).all()
    assert (lao_cai.communes["district_code"] == units["district_code"]).all()


def test_demo_data_shape(lao_cai):
    ds = lao_cai
    assert ds.meta.demo
    assert "MINH HỌA" in ds.meta.demo_label
    # income, poverty, production, environment are the most often missing
    missing = (~ds.status).sum().sort_values(ascending=False)
    assert set(missing.index[:4]) == {"TC10", "TC11", "TC13", "TC17"}
    # especially difficult communes concentrate in the highland districts
    hard = ds.communes.groupby("district_code")["especially_difficult"].mean()
    assert hard[["82", "83", "84", "85", "88"]].min() > hard[["80", "86"]].max()
    # costs are present exactly where criteria are unmet, and not estimated
    assert (ds.cost.notna() == ~ds.status).all().all()
    assert not ds.any_cost_estimated
    assert ds.envelopes.shape == (7, 5)
    named = ds.communes.set_index("commune_name").loc[["Đồng Tuyển", "Bản Sen", "Nậm Mòn"]].index
    assert all(ds.is_ntm[ds.communes["commune_name"] == n].all() for n in named)


def test_generator_is_seeded():
    a, b = demo.generate(7), demo.generate(7)
    assert a.content_hash() == b.content_hash()
    assert demo.generate(8).content_hash() != a.content_hash()
