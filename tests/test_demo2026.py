"""The demo dataset of the merged Lào Cai for 2026–2030: public units, carried status, labelled demo."""

from __future__ import annotations

from ntm_sim import demo2026
from ntm_sim.carry import carry_dataset
from ntm_sim.io import load_dataset


def test_the_merged_province_as_demo_data() -> None:
    ds = load_dataset("lao_cai_2026")
    assert ds is demo2026.lao_cai_2026()
    assert len(ds.communes) == 89
    assert set(ds.communes["province_code"]) == {"15"}
    assert ds.criteria.id == "qd51-2026-2030"
    assert ds.districts.empty
    assert ds.meta.demo
    assert "drawn" in ds.meta.notes
    assert list(ds.envelopes.columns) == [2026, 2027, 2028, 2029, 2030]
    assert set(ds.sources.index) >= {"ntm", "giam_ngheo", "dtts"}  # one programme, its channels


def test_derived_cells_are_kept_and_the_rest_drawn_reproducibly() -> None:
    ds = demo2026.lao_cai_2026()
    carried = carry_dataset(load_dataset("lao_cai"))
    known = carried.status.notna()
    assert (ds.status.where(known) == carried.status.where(known)).where(known).fillna(True).all().all()
    demo2026.lao_cai_2026.cache_clear()
    again = demo2026.lao_cai_2026()
    assert again is not ds
    assert again.content_hash() == ds.content_hash()
