"""The command line's summaries of a run: the headline and the solve and simulation summaries, in Vietnamese."""

from __future__ import annotations

from ntm_sim.messages import Catalogue

VI = Catalogue("vi")  # the command line's summaries are in Vietnamese; their words are in the catalogue
_TARGETS = ("communes_ntm", "advanced", "model", "villages_ntm", "villages_model", "min_criteria", "avg_criteria")
TARGET_LABELS_VI = {key: VI(f"console.target.{key}") for key in _TARGETS}


#: The tiers of results written before they carried their criteria set's own (Decision 318's).
OLD_TIERS_VI = {slot: VI(f"console.old_tier.{slot}") for slot in ("advanced", "model")}
# the targets of one district or criterion, named before its name or code
_PER_PLACE = ("district_units", "advanced_districts", "criterion_communes")


def tier_labels_vi(summary: dict) -> dict[str, str]:
    """The tiers above NTM a run's criteria set issues, by result key: ``{"advanced": "nâng cao", …}``.

    Read from ``summary.json`` ``tiers`` (Decision 51: ``{"model": "hiện đại (thí điểm)"}``);
    results written before it have Decision 318's two tiers.
    """
    tiers = summary.get("tiers")
    if tiers is None:
        return dict(OLD_TIERS_VI)
    return {slot: str(t.get("short_vi") or t.get("name_vi") or slot) for slot, t in tiers.items()}


def format_headline(summary: dict) -> list[str]:
    """The simulated headline: median and 5–95% band, P(each target), the figure on paper beside it."""
    from ntm_sim.text import format_number_vi as fmt
    from ntm_sim.text import format_percent_vi as pct

    h = summary.get("headline")
    years = summary["communes_ntm_by_year"]
    horizon = list(years)[-1]
    if not h:
        return [VI("console.headline_paper", horizon=horizon, communes=summary["communes_ntm"])]
    o = h["outcomes"]["communes_ntm"]
    conf = h["confidence"]
    lines = [VI("console.headline", horizon=horizon, draws=fmt(h["draws"]), seed=h["seed"], median=fmt(o["median"]),
                p5=fmt(o["p5"]), p95=fmt(o["p95"]), mean=fmt(o["mean"], 1)),
             "  " + VI("console.as_planned", communes=fmt(o.get("deterministic", 0)))]
    names = dict(summary.get("district_names", {}))
    labels = {**TARGET_LABELS_VI, **{slot: VI("console.tier_communes", tier=q)
                                     for slot, q in tier_labels_vi(summary).items()}}
    for key, t in h["targets"].items():
        kind, _, code = key.partition(":")
        label = labels.get(kind, kind)
        if kind == "min_criteria":
            label = VI("console.target.min_criteria_n", floor=fmt(t["target"]))
        elif code:
            label = (VI(f"console.target.{kind}") if kind in _PER_PLACE else kind) + f" {names.get(code, code)}"
        target = "" if kind == "min_criteria" or t["target"] is None or kind.endswith("districts") or \
            kind == "district_units" else f" ≥ {fmt(t['target'], 1 if kind == 'avg_criteria' else 0)}"
        verdict = VI("console.met") if t["met"] else VI("console.missed", confidence=pct(conf, 0))
        lines.append("  " + VI("console.probability", label=label, target=target,
                                probability=pct(t["probability"], 0), verdict=verdict))
    return lines


def format_solve_summary(summary: dict) -> str:
    """Readable text of a solve summary (headline simulated), with Vietnamese number formats."""
    from ntm_sim.text import format_number_vi as fmt

    lines = []
    proven = VI("console.proven") if summary["status"] == "ok" else VI("console.unproven")
    if not summary.get("reproducible", True):
        proven += " – " + VI("console.time_limit")
    lines.append(VI("console.scenario", scenario=summary["scenario"], mode=summary["mode"], solver=summary["solver"],
                    version=summary["solver_version"]))
    rec = summary.get("recommendation")
    if rec and rec["chosen_kind"] == "rule":
        from ntm_sim.optimize.baselines import NAMES_VI

        lines.append(VI("console.recommended", plan=NAMES_VI.get(rec["chosen"], rec["chosen"])))
    elif rec:
        lines.append(VI("console.recommended_reserve", plan=rec["chosen"], reserve=fmt(100 * rec["reserve"]),
                        projects=rec["reserve_projects"]))
    lines.extend(format_headline(summary))
    lines.append(VI("console.status", status=summary["status"], proven=proven))
    for s in summary["stages"]:
        gap = "–" if s["mip_gap"] is None else f"{fmt(100 * s['mip_gap'], 2)}%"
        lines.append("  " + VI("console.stage", name=s["name"], termination=s["termination"],
                                objective=fmt(s["objective"] or 0, 2), bound=fmt(s["bound"] or 0, 2), gap=gap,
                                plan=fmt(s["plan_value"] or 0, 2), runtime=fmt(s["runtime_s"], 1)))
    lines += _paper_lines(summary) + _comparison_lines(summary, rec)
    if summary["costs_estimated"]:
        lines.append(VI("console.estimated"))
    return "\n".join(lines)


def _paper_lines(summary: dict) -> list[str]:
    """The plan on paper: communes by year, tiers and district units, criteria, villages, money, shortfalls."""
    from ntm_sim.text import format_number_vi as fmt

    bn = lambda x: fmt(x / 1000, 1)  # noqa: E731
    lines = []
    years = summary["communes_ntm_by_year"]
    lines.append(VI("console.paper_by_year", years=", ".join(f"{y}: {n}" for y, n in years.items())))
    # the criteria set's own tiers and, where it has them, district units
    tiers = ", ".join(f"{q} {summary[slot]}" for slot, q in tier_labels_vi(summary).items() if slot in summary)
    parts = [tiers] if tiers else []
    if "district_unit_names" in summary:
        parts.append(VI("console.paper_units", units=", ".join(summary["district_unit_names"]) or "–"))
    lines.append(VI("console.paper_communes", horizon=list(years)[-1], communes=summary["communes_ntm"],
                    new=summary["new_communes_ntm"]) + "".join(f"; {p}" for p in parts))
    lines.append(VI("console.paper_criteria", criteria=fmt(summary["avg_criteria"], 2),
                    villages=summary["villages_ntm_new"], model=summary["villages_model_new"]))
    lines.append(VI("console.paper_money", spent=bn(summary["total_cost_mvnd"]), budget=bn(summary["budget_mvnd"]),
                    unspent=bn(summary["unspent_mvnd"])))
    if "funding_gap_mvnd" in summary:
        gaps = ", ".join(f"{y}: {bn(g)}" for y, g in summary["funding_gap_by_year"].items())
        lines.append(VI("console.paper_gap", gap=bn(summary["funding_gap_mvnd"]), years=gaps))
    for s in summary["shortfalls"]:
        name = s.get("label_vi") or s["label"]  # folders written before the Vietnamese name have the English one
        lines.append("  " + VI("console.shortfall", name=name, missing=fmt(s["missing"], 1),
                                needed=fmt(s["needed"], 1)))
    return lines


def _comparison_lines(summary: dict, rec: dict | None) -> list[str]:
    """The recommended plan against each rule: in the simulation when it was chosen there, else on paper."""
    from ntm_sim.text import format_number_vi as fmt

    bn = lambda x: fmt(x / 1000, 1)  # noqa: E731
    lines = []
    if rec:
        for name in summary["baselines"]:
            row = rec["comparison"].get(name)
            if row is None:
                continue
            lines.append(VI("console.compare_simulated", name=row["name_vi"], mean=fmt(row["mean"], 1),
                            diff=fmt(row["diff_mean"], 1), low=fmt(row["diff_low"], 1), high=fmt(row["diff_high"], 1)))
    else:
        for _name, b in summary["baselines"].items():
            diff = b["recommended_minus_baseline_communes"]
            lines.append(VI("console.compare_paper", name=b["name_vi"], communes=b["communes_ntm"],
                            money=bn(b["total_cost_mvnd"]), diff=f"{'+' if diff >= 0 else ''}{diff}"))
    return lines



def format_simulation_summary(summary: dict) -> str:
    """Readable text of a simulation summary, with Vietnamese number formats."""
    from ntm_sim.text import format_number_vi as fmt
    from ntm_sim.text import format_percent_vi as pct

    lines = [VI("console.simulation", draws=summary["draws"], seed=summary["seed"], sampler=summary["sampler"])]
    for plan, p in summary["plans"].items():
        o = p["outcomes"]["communes_ntm"]
        lines.append(VI("console.simulation_plan", name=p["name_vi"], plan=plan, mean=fmt(o["mean"], 1),
                        p5=fmt(o["p5"]), p95=fmt(o["p95"])))
        probs = p["target_probabilities"]
        labels = {"communes_ntm": VI("console.simulation_communes"),
                  **{slot: VI("console.simulation_tier", tier=q) for slot, q in tier_labels_vi(summary).items()},
                  "all_targets": VI("console.simulation_all")}
        for code, name in summary.get("district_names", {}).items():
            labels[f"district_units:{code}"] = name
        shown = ", ".join(f"{labels[k]}: {pct(v, 0)}" for k, v in probs.items() if k in labels)
        if shown:
            lines.append("  " + VI("console.simulation_odds", odds=shown))
        sens = list(p["sensitivity"].items())[:3]
        if sens:
            lines.append("  " + VI("console.simulation_drivers",
                                    drivers=", ".join(f"{k} ({pct(v['first_order'], 0)})" for k, v in sens)))
        lines.append("  " + p["scenario_discovery"]["text_vi"])
    if summary.get("regret_communes_ntm"):
        lines.append(VI("console.simulation_regret", regret=", ".join(
            f"{k}: {fmt(v['mean_regret'], 1)}" for k, v in summary["regret_communes_ntm"].items())))
    return "\n".join(lines)
