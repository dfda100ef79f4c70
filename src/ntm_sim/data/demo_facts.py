"""The 2021–2025 data measured and written: calibration figures against the public record, the README's tables."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ntm_sim.data.dataset import Dataset, bundled_path
from ntm_sim.data.demo import (
    CENTRAL_TOTALS,
    NTM_FOR_2020,
    SEED,
    SOURCES,
    YEARS,
    _nfc,
    _nfc_set,
    generate,
    zone3_violations,
)


@dataclass(frozen=True)
class DemoFacts:
    """Figures of the generated data, as printed in the README."""

    communes: int
    districts: int
    ntm_communes_2020: int            # recognised NTM at the start
    recognised_at_19: int             # … meeting every criterion of the Decision 318 set
    recognised_at_14_18: int
    recognised_at_10_13: int
    recognised_below_10: int
    recognised_avg_criteria: float
    recognised_held_by_rule: int      # … that the revocation rule holds (Decision 18/2022)
    advanced: int
    especially_difficult: int
    zone3_on_2021_list: int
    zone3_rule_violations: int
    avg_criteria_old_set: float       # all communes, the recognised counting 19 (the set they met)
    villages_model: int
    villages_ntm_only: int
    rural_population: int
    money_total_bn: float
    central_total_bn: float
    central_2023_investment_bn: float
    central_2023_recurrent_bn: float
    central_2021_bn: float
    central_investment_bn: float
    central_recurrent_bn: float
    programme_1719_bn: float
    poverty_programme_bn: float
    need_to_complete_bn: float
    need_cheapest_33_bn: float


def facts(ds: Dataset) -> DemoFacts:
    """Compute the calibration figures of a dataset."""
    met = ds.criteria_met
    n_k = len(ds.criteria)
    need = ds.cost_to_complete
    rec = ds.recognised
    open_need = need[~rec].sort_values()
    c = ds.communes
    names = set(c.loc[rec, "commune_name"].map(_nfc))
    env_bn = ds.envelopes / 1000
    held = ds.held_by_rule

    def source_bn(sid: str) -> float:
        return round(float(env_bn.loc[sid].sum()), 2) if sid in env_bn.index else 0.0

    central = [s.id for s in SOURCES if s.id in CENTRAL_TOTALS["investment"] or s.id in CENTRAL_TOTALS["recurrent"]]
    central = [s for s in central if s in env_bn.index]
    investment = [s for s in central if s in CENTRAL_TOTALS["investment"]]
    recurrent = [s for s in central if s in CENTRAL_TOTALS["recurrent"]]
    return DemoFacts(
        communes=len(c),
        districts=len(ds.districts),
        ntm_communes_2020=int(rec.sum()),
        recognised_at_19=int((rec & (met == n_k)).sum()),
        recognised_at_14_18=int((rec & met.between(14, 18)).sum()),
        recognised_at_10_13=int((rec & met.between(10, 13)).sum()),
        recognised_below_10=int((rec & (met < 10)).sum()),
        recognised_avg_criteria=round(float(met[rec].mean()), 2),
        recognised_held_by_rule=int(held.sum()),
        advanced=int(c["advanced"].sum()),
        especially_difficult=int(c["especially_difficult"].sum()),
        zone3_on_2021_list=int(c["especially_difficult"].sum()) + len(_nfc_set(NTM_FOR_2020) & names),
        zone3_rule_violations=len(zone3_violations(ds.criteria, c["especially_difficult"], ds.status)),
        avg_criteria_old_set=round(float(met.where(~rec, n_k).mean()), 2),
        villages_model=int(c["villages_model"].sum()),
        villages_ntm_only=int((c["villages_ntm"] - c["villages_model"]).sum()),
        rural_population=int(c["population"].sum()),
        money_total_bn=round(float(env_bn.to_numpy().sum()), 2),
        central_total_bn=round(float(env_bn.loc[central].to_numpy().sum()), 2),
        central_2023_investment_bn=round(float(env_bn.loc[investment, 2023].sum()), 2) if investment else 0.0,
        central_2023_recurrent_bn=round(float(env_bn.loc[recurrent, 2023].sum()), 2) if recurrent else 0.0,
        central_2021_bn=round(float(env_bn.loc[central, YEARS[0]].sum()), 2) if central else 0.0,
        central_investment_bn=source_bn("nstw_dtpt"),
        central_recurrent_bn=source_bn("nstw_sn"),
        programme_1719_bn=source_bn("ctmtqg_1719"),
        poverty_programme_bn=source_bn("ctmtqg_giam_ngheo"),
        need_to_complete_bn=round(float(need.sum()) / 1000, 1),
        need_cheapest_33_bn=round(float(open_need.iloc[:33].sum()) / 1000, 1),
    )


def readme_table(ds: Dataset) -> str:
    """Markdown table of the calibration figures for the data README."""
    f = facts(ds)
    rows = [
        ("Communes", f.communes, "127 (public)"),
        ("District-level units", f.districts, "9 (public)"),
        ("NTM communes at the start of 2021 (recognised)", f.ntm_communes_2020,
         "61 = 57 + 4 recognised for 2020 (public)"),
        ("… meeting all 19 criteria of the Decision 318 set", f.recognised_at_19, "4 of 62 in October 2024 (public)"),
        ("… 14–18 criteria", f.recognised_at_14_18, "40 of 62 (public; 39 of our 61)"),
        ("… 10–13 criteria", f.recognised_at_10_13, "16 of 62 (public)"),
        ("… below 10 criteria", f.recognised_below_10, "2 of 62 (public: Liên Minh 5, Tà Chải 8)"),
        ("… average criteria", f"{f.recognised_avg_criteria:.2f}", "15.03 (public)"),
        ("… held by the revocation rule (Decision 18/2022)", f.recognised_held_by_rule,
         "18 at risk: Bát Xát 7, Sa Pa 1, Bắc Hà 4, Mường Khương 5, Bảo Yên 1 (public)"),
        ("Advanced communes", f.advanced, "5 by 2024: Sơn Hà, Sơn Hải, Xuân Quang, Liên Minh, Tà Chải (public)"),
        ("Zone III communes at the start", f.especially_difficult, "70 listed − 4 recognised NTM = 66"),
        ("Zone III + the 4 recognised for 2020 (Decision 861 list)", f.zone3_on_2021_list, "70 (public)"),
        ("Zone III communes NTM or meeting poverty", f.zone3_rule_violations, "0 (Decision 33/2020 rule)"),
        ("Average criteria, the recognised counting 19 (the 2016–2020 set they met)",
         f"{f.avg_criteria_old_set:.2f}", "15.15 at the end of 2021 (public)"),
        ("Model villages, end 2020", f.villages_model, "134 (public)"),
        ("NTM villages (not model), end 2020", f.villages_ntm_only, "123 (public)"),
        ("Rural population", f"{f.rural_population:,}", "559,019 ± 0.5% (2019 census)"),
        ("Money 2021–2025, billion VND", f"{f.money_total_bn:,.2f}", "> 9,200 mobilised for NTM (public)"),
        ("Central money of the three programmes, billion VND", f"{f.central_total_bn:,.2f}", "6,258.874 (public)"),
        ("… in 2023: investment / recurrent",
         f"{f.central_2023_investment_bn:,.2f} / {f.central_2023_recurrent_bn:,.2f}", "873 / 829 (public)"),
        ("… in 2021", f"{f.central_2021_bn:,.2f}", "≈0 (programmes approved 2021–2022)"),
        ("Central NTM investment / recurrent, billion VND",
         f"{f.central_investment_bn:,.2f} / {f.central_recurrent_bn:,.2f}", "421.84 / 174.16 (public)"),
        ("1719 programme investment, billion VND", f"{f.programme_1719_bn:,.2f}", "2,058 (public)"),
        ("Poverty-reduction programme investment, billion VND", f"{f.poverty_programme_bn:,.2f}", "932.9 (public)"),
        ("Cost to meet every criterion everywhere, billion VND", f"{f.need_to_complete_bn:,.1f}",
         "larger than the money"),
        ("Cost of the 33 cheapest communes not recognised, billion VND", f"{f.need_cheapest_33_bn:,.1f}",
         "the plan's +33 (to 94) was far out of reach (65 by June 2025)"),
    ]
    out = ["| Figure | Generated | Calibration target |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(out)


def money_table(ds: Dataset) -> str:
    """Markdown table of the money by source and year (billion VND) with each figure's basis."""
    head = "| Source | Scope | " + " | ".join(str(y) for y in YEARS) + " | Total | Basis |"
    out = [head, "|---" * (len(YEARS) + 4) + "|"]
    for s in SOURCES:
        row = ds.envelopes.loc[s.id] / 1000
        cells = " | ".join(f"{row[y]:,.2f}" for y in YEARS)
        out.append(f"| `{s.id}` {s.name_en} | {s.scope or 'all'} | {cells} | {row.sum():,.2f} | {s.basis} |")
    return "\n".join(out)


README_BLOCKS = {"calibration": readme_table, "money": money_table}


def fill_readme(text: str, ds: Dataset) -> str:
    """The README's text with every generated block (between its markers) rewritten."""
    for name, table in README_BLOCKS.items():
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        head, sep, rest = text.partition(begin)
        if not sep:
            continue
        _, _, tail = rest.partition(end)
        text = f"{head}{begin}\n{table(ds)}\n{end}{tail}"
    return text


def write_bundled(folder: Path | None = None, seed: int = SEED, *, force: bool = False) -> Path:
    """Regenerate the bundled dataset folder (or write it to ``folder``) and the figures in its README.

    The bundled folder is always regenerated in place; another folder is replaced only if
    ntm-sim wrote it and ``force`` is set.
    """
    from ntm_sim.data.io.folder import write_folder

    force = force or not folder
    folder = Path(folder) if folder else bundled_path("lao_cai")
    readme = folder / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else None
    ds = generate(seed)
    write_folder(ds, folder, force=force)
    if text is not None:
        (folder / "README.md").write_text(fill_readme(text, ds), encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> None:
    """Regenerate the bundled Lào Cai demo data (``python -m ntm_sim.data.demo_facts``)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    folder = write_bundled(args.out, args.seed)
    print(f"wrote {folder}")
    print(readme_table(generate(args.seed)))


if __name__ == "__main__":
    main()
