"""The 2026–2030 criteria set (Decision 51/2025/QĐ-TTg) beside the 2021–2025 one, provisional values flagged."""

from __future__ import annotations

import json
from pathlib import Path

from ntm_sim.data.criteria import available_sets, load_criteria_set
from ntm_sim.data.summary import validation_summary
from ntm_sim.model.scenario import Scenario
from ntm_sim.run.workflow import run_scenario
from test_no_districts import no_district_dataset


def test_both_sets_load() -> None:
    assert {"qd318-2021-2025", "qd51-2026-2030"} <= set(available_sets())
    old, new = load_criteria_set("qd318-2021-2025"), load_criteria_set("qd51-2026-2030")
    assert len(old) == 19
    assert len(new) == 10
    assert new.period == (2026, 2030)
    assert new.indicators == 47
    assert new.effective_from == "2026-02-15"
    assert [c.name_vi for c in new.criteria][:3] == ["Quy hoạch", "Hạ tầng kinh tế - xã hội",
                                                      "Phát triển kinh tế nông thôn"]
    assert new["TC10"].name_vi == "Tiếp cận pháp luật và an ninh, quốc phòng"
    assert new.district_tiers == ()  # no districts from 1 July 2025
    assert [k.id for k in new.commune_classes] == ["nhom1", "nhom2", "nhom3"]
    assert new.match("Tiêu chí 7") == "TC7"
    assert new.match("Giảm nghèo và an sinh xã hội") == "TC6"


def test_what_the_public_text_does_not_give_is_marked_provisional() -> None:
    old, new = load_criteria_set("qd318-2021-2025"), load_criteria_set("qd51-2026-2030")
    assert old.provisional_items() == []
    items = new.provisional_items()
    assert all(c.provisional for c in new.criteria)  # group, kind and lead time of every criterion
    # the centre issues one commune set and the modern-commune pilot, no advanced or model set
    assert [t.id for t in new.tiers] == ["ntm", "modern"]
    assert new.advanced_tier is None
    assert new.top_tier.requires == "ntm"
    assert "tier modern" in items
    assert not any("advanced" in i for i in items)
    assert not new.tiers[0].provisional  # NTM = every criterion met: the decision's own rule
    assert all(g.provisional for g in new.commune_groups)
    assert any("Phụ lục III" in i for i in items)
    assert [new.group_of(m).id for m in (10, 9, 5, 4)] == ["ntm", "g8_9", "g5_7", "lt5"]


def test_outputs_that_use_the_set_flag_it(tmp_path: Path) -> None:
    ds = no_district_dataset(criteria_set="qd51-2026-2030")
    assert "giá trị tạm tính (provisional)" in validation_summary(ds)
    scenario = Scenario.model_validate({"name": "qd51", "years": [2026, 2028], "mode": "max-achievement",
                                        "targets": {"communes_ntm": 4}, "robustness": {"enabled": False}})
    run_scenario(ds, scenario, tmp_path / "run", draws=0)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["data"]["criteria_set"] == "qd51-2026-2030"
    assert manifest["data"]["criteria_provisional"] == load_criteria_set("qd51-2026-2030").provisional_items()


def test_default_costs_of_the_new_set_come_through_the_stated_mapping() -> None:
    from ntm_sim.data.costs import default_unit_costs

    unit = default_unit_costs()
    new = unit.criterion_costs(load_criteria_set("qd51-2026-2030"))
    assert new["TC1"] == unit.criteria["TC1"]
    assert new["TC10"] == unit.criteria["TC18"] + unit.criteria["TC19"]
    assert new["TC7"] == unit.criteria["TC8"]  # an unknown link still names the nearest old criterion
    assert list(unit.criterion_costs(load_criteria_set())) == [unit.criteria[f"TC{i}"] for i in range(1, 20)]


def test_a_long_csv_of_the_new_set_is_read_with_it(tmp_path: Path) -> None:
    from ntm_sim.data.registry import load_dataset

    path = tmp_path / "moi.csv"
    path.write_text("commune_code,criterion,met\n" + "".join(f"2896,TC{k},Đạt\n" for k in range(1, 11)),
                    encoding="utf-8")
    ds = load_dataset(path)
    assert ds.criteria.id == "qd51-2026-2030"
    assert ds.meta.units == "Lào Cai (từ 1/7/2025)"
    assert bool(ds.is_ntm.iloc[0])
