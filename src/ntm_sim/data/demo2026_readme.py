"""The 2026–2030 data's README: its generated tables (standing by class, money by channel), from the build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ntm_sim.data.demo2026 import (
    CHANNELS,
    NAME,
    OLD_LAO_CAI,
    REVIEWS_FROM,
    YEARS,
    Build,
    _units,
    build,
    money_plan,
    national_communes,
    province_share,
)

README_MARKERS = {"standing": ("<!-- standing:begin -->", "<!-- standing:end -->"),
                  "money": ("<!-- money:begin -->", "<!-- money:end -->")}


def _bn(x: float, decimals: int = 1) -> str:
    return f"{x:,.{decimals}f}"


def standing_table(b: Build) -> str:
    """Markdown: where the built dataset stands, by former province (the README's figures)."""
    ds = b.dataset
    units = _units()
    half = pd.Series({c: "Lào Cai" if units.province.get(c) == OLD_LAO_CAI else "Yên Bái" for c in ds.communes.index})
    recognised = ds.recognised
    short = recognised & ~ds.is_ntm
    unmet = (~ds.status).sum(axis=1)
    rows: list[tuple[str, pd.Series]] = [
        ("Communes", pd.Series(True, index=ds.communes.index)),
        ("Recognised NTM (`recognised_year` given)", recognised),
        ("… every former commune recognised (old Lào Cai: the data and the named years; old Yên Bái: the "
         "NTM district units), or the advanced commune", ds.communes.index.isin(b.standing.derived)),
        ("… topped up by the seeded draw", ds.communes.index.isin(b.standing.topped_up)),
        ("Left out by the seeded trim (every former commune recognised, over the count)",
         ds.communes.index.isin(b.standing.trimmed)),
        ("Advanced (`advanced`)", ds.communes["advanced"]),
        ("Model (`model`)", ds.communes["model"]),
        ("Recognised, meeting all 10 criteria of Decision 51", recognised & ds.is_ntm),
        ("Recognised, short of 1 criterion", short & (unmet == 1)),
        ("Recognised, short of 2 criteria", short & (unmet == 2)),
        ("Recognised, short of 3 or more", short & (unmet >= 3)),
        (f"Recognised, over the revocation line (at risk from the first review, {REVIEWS_FROM})",
         ds.held_by_rule),
        ("Not recognised", ~recognised),
        ("Zone III (`especially_difficult`)", ds.communes["especially_difficult"]),
        *((f"Decision 51 group {i} (`commune_class` {c.id})", ds.communes["commune_class"] == c.id)
          for i, c in enumerate(ds.criteria.commune_classes, start=1)),
    ]
    lines = ["| | old Lào Cai | old Yên Bái | merged province |", "|---|---|---|---|"]
    for label, mask in rows:
        mask = pd.Series(np.asarray(mask, dtype=bool), index=ds.communes.index)
        lines.append(f"| {label} | {int(mask[half == 'Lào Cai'].sum())} | {int(mask[half == 'Yên Bái'].sum())} "
                     f"| {int(mask.sum())} |")
    met = ds.criteria_met
    lines.append(f"| Criteria met on average (of 10) | {met[half == 'Lào Cai'].mean():.2f} | "
                 f"{met[half == 'Yên Bái'].mean():.2f} | {met.mean():.2f} |")
    drawn = b.drawn.sum(axis=1)
    lines.append(f"| Status cells drawn (the mapping cannot derive them) | {int(drawn[half == 'Lào Cai'].sum())} | "
                 f"{int(drawn[half == 'Yên Bái'].sum())} | {int(drawn.sum())} |")
    return "\n".join(lines)


def money_table() -> str:
    """Markdown: Resolution 257/2025's channels, the province's share and what enters as a source."""
    plan = money_plan()
    share = province_share()
    lines = [f"Share of the country's communes: 89 / {national_communes():,} = {share:.4%}.", "",
             "| Channel | National 2026–2030 (bn VND) | Lào Cai's share (bn) | Enters (bn) | "
             + " | ".join(str(y) for y in YEARS) + " | Eligible | How it enters |",
             "|---|---|---|---|" + "---|" * len(YEARS) + "---|---|"]
    for ch in CHANNELS:
        r = plan.loc[ch.id]
        years = " | ".join(_bn(r[y] / 1000, 2) for y in YEARS)
        lines.append(f"| `{ch.id}` {ch.name_en} | {_bn(ch.national_bn, 0)} | {_bn(r['total_mvnd'] / 1000)} | "
                     f"{_bn(r['source_mvnd'] / 1000)} | {years} | {ch.eligible or '–'} | {ch.why} |")
    total = plan[list(YEARS)].to_numpy().sum() / 1000
    lines.append(f"| All sources | {_bn(sum(ch.national_bn for ch in CHANNELS), 0)} | "
                 f"{_bn(plan['total_mvnd'].sum() / 1000)} | {_bn(total)} | "
                 + " | ".join(_bn(plan[y].sum() / 1000, 2) for y in YEARS) + " | | |")
    return "\n".join(lines)


def fill_readme(text: str, b: Build) -> str:
    """``text`` with its generated tables replaced by those of ``b`` (and the money plan)."""
    for name, table in (("standing", standing_table(b)), ("money", money_table())):
        begin, end = README_MARKERS[name]
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = f"{head}{begin}\n{table}\n{end}{tail}"
    return text


def readme_path() -> Path:
    """The README of this dataset (in the package's data, beside the 2021–2025 one)."""
    from ntm_sim.data.dataset import bundled_path

    return bundled_path(NAME) / "README.md"


def main(argv: list[str] | None = None) -> None:
    """``python -m ntm_sim.data.demo2026_readme --readme``: refill the README's generated tables."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--readme", action="store_true", help="rewrite the README's generated tables")
    args = parser.parse_args(argv)
    b = build()
    if args.readme:
        path = readme_path()
        path.write_text(fill_readme(path.read_text(encoding="utf-8"), b), encoding="utf-8")
        print(f"wrote {path}")
    else:
        print(standing_table(b))
        print()
        print(money_table())


if __name__ == "__main__":  # pragma: no cover
    main()
