"""The command line's summaries of a run: the headline and the solve and simulation summaries, in Vietnamese."""

from __future__ import annotations

TARGET_LABELS_VI = {"communes_ntm": "xã đạt chuẩn NTM", "advanced": "xã NTM nâng cao", "model": "xã NTM kiểu mẫu",
                    "villages_ntm": "thôn NTM mới", "villages_model": "thôn kiểu mẫu mới",
                    "min_criteria": "không xã nào dưới mức sàn tiêu chí", "avg_criteria": "tiêu chí bình quân/xã"}


#: The tiers of results written before they carried their criteria set's own (Decision 318's).
OLD_TIERS_VI = {"advanced": "nâng cao", "model": "kiểu mẫu"}


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
        return [f"Xã NTM đến {horizon} (trên giấy, CHƯA mô phỏng rủi ro): {summary['communes_ntm']}"]
    o = h["outcomes"]["communes_ntm"]
    conf = h["confidence"]
    lines = [f"Xã NTM đến {horizon} theo mô phỏng ({fmt(h['draws'])} lần thử, hạt giống ngẫu nhiên {h['seed']}): "
             f"trung vị {fmt(o['median'])} (5–95%: {fmt(o['p5'])}–{fmt(o['p95'])}); bình quân {fmt(o['mean'], 1)}",
             f"  Nếu mọi chi phí, tiến độ và giải ngân đúng kế hoạch: {fmt(o.get('deterministic', 0))} xã"]
    names = dict(summary.get("district_names", {}))
    labels = {**TARGET_LABELS_VI, **{slot: f"xã NTM {q}" for slot, q in tier_labels_vi(summary).items()}}
    for key, t in h["targets"].items():
        kind, _, code = key.partition(":")
        label = labels.get(kind, kind)
        if kind == "min_criteria":
            label = f"không xã nào dưới {fmt(t['target'])} tiêu chí"
        elif code:
            label = {"district_units": "đơn vị cấp huyện", "advanced_districts": "huyện NTM nâng cao",
                     "criterion_communes": "số xã đạt"}.get(kind, kind) + f" {names.get(code, code)}"
        target = "" if kind == "min_criteria" or t["target"] is None or kind.endswith("districts") or \
            kind == "district_units" else f" ≥ {fmt(t['target'], 1 if kind == 'avg_criteria' else 0)}"
        verdict = "ĐẠT" if t["met"] else f"CHƯA ĐẠT độ tin cậy {pct(conf, 0)}"
        lines.append(f"  Xác suất {label}{target}: {pct(t['probability'], 0)} – {verdict}")
    return lines


def format_solve_summary(summary: dict) -> str:
    """Readable text of a solve summary (headline simulated), with Vietnamese number formats."""
    from ntm_sim.text import format_number_vi as fmt

    lines = []
    proven = {"ok": "tối ưu đã chứng minh (proven optimal)"}.get(
        summary["status"], "CHƯA chứng minh tối ưu – dừng ở giới hạn khối lượng tính toán")
    if not summary.get("reproducible", True):
        proven += " – dừng do giới hạn THỜI GIAN: kết quả có thể khác nếu chạy lại"
    lines.append(f"Kịch bản: {summary['scenario']}   chế độ: {summary['mode']}   bộ giải: {summary['solver']} "
                 f"{summary['solver_version']}")
    rec = summary.get("recommendation")
    if rec and rec["chosen_kind"] == "rule":
        from ntm_sim.optimize.baselines import NAMES_VI

        lines.append(f"Phương án khuyến nghị (chọn theo mô phỏng): {NAMES_VI.get(rec['chosen'], rec['chosen'])}")
    elif rec:
        lines.append(f"Phương án khuyến nghị (chọn theo mô phỏng): {rec['chosen']}, dự phòng "
                     f"{fmt(100 * rec['reserve'])}% vốn, {rec['reserve_projects']} dự án trong danh sách dự phòng")
    lines.extend(format_headline(summary))
    lines.append(f"Trạng thái bộ giải: {summary['status']} – {proven}")
    for s in summary["stages"]:
        gap = "–" if s["mip_gap"] is None else f"{fmt(100 * s['mip_gap'], 2)}%"
        lines.append(f"  · {s['name']:<17} {s['termination']:<11} bộ giải {fmt(s['objective'] or 0, 2):>10}  "
                     f"cận {fmt(s['bound'] or 0, 2):>10}  gap {gap:>7}  phương án {fmt(s['plan_value'] or 0, 2):>10}"
                     f"  {fmt(s['runtime_s'], 1)} s")
    lines += _paper_lines(summary) + _comparison_lines(summary, rec)
    if summary["costs_estimated"]:
        lines.append("Lưu ý: chi phí có phần ƯỚC TÍNH theo đơn giá mặc định.")
    return "\n".join(lines)


def _paper_lines(summary: dict) -> list[str]:
    """The plan on paper: communes by year, tiers and district units, criteria, villages, money, shortfalls."""
    from ntm_sim.text import format_number_vi as fmt

    bn = lambda x: fmt(x / 1000, 1)  # noqa: E731
    lines = []
    years = summary["communes_ntm_by_year"]
    lines.append("Trên giấy – xã đạt chuẩn NTM theo năm: " + ", ".join(f"{y}: {n}" for y, n in years.items()))
    # the criteria set's own tiers and, where it has them, district units
    tiers = ", ".join(f"{q} {summary[slot]}" for slot, q in tier_labels_vi(summary).items() if slot in summary)
    parts = [tiers] if tiers else []
    if "district_unit_names" in summary:
        parts.append(f"đơn vị cấp huyện: {', '.join(summary['district_unit_names']) or '–'}")
    lines.append(f"Trên giấy – xã NTM đến {list(years)[-1]}: {summary['communes_ntm']} "
                 f"(+{summary['new_communes_ntm']})" + "".join(f"; {p}" for p in parts))
    lines.append(f"Tiêu chí bình quân/xã: {fmt(summary['avg_criteria'], 2)}; "
                 f"thôn NTM mới {summary['villages_ntm_new']}, thôn kiểu mẫu mới {summary['villages_model_new']}")
    lines.append(f"Tổng vốn: {bn(summary['total_cost_mvnd'])} tỷ đồng / {bn(summary['budget_mvnd'])} tỷ đồng "
                 f"có sẵn; chưa dùng {bn(summary['unspent_mvnd'])} tỷ đồng")
    if "funding_gap_mvnd" in summary:
        gaps = ", ".join(f"{y}: {bn(g)}" for y, g in summary["funding_gap_by_year"].items())
        lines.append(f"Thiếu vốn (funding gap): {bn(summary['funding_gap_mvnd'])} tỷ đồng ({gaps})")
    for s in summary["shortfalls"]:
        name = s.get("label_vi") or s["label"]  # folders written before the Vietnamese name have the English one
        lines.append(f"  ! không thể đạt: {name}: thiếu {fmt(s['missing'], 1)} (cần {fmt(s['needed'], 1)})")
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
            lines.append(f"So sánh (mô phỏng, cùng các lần thử) – {row['name_vi']}: bình quân "
                         f"{fmt(row['mean'], 1)} xã; phương án khuyến nghị hơn {fmt(row['diff_mean'], 1)} xã "
                         f"(khoảng tin cậy 95%: {fmt(row['diff_low'], 1)} đến {fmt(row['diff_high'], 1)})")
    else:
        for _name, b in summary["baselines"].items():
            diff = b["recommended_minus_baseline_communes"]
            lines.append(f"So sánh trên giấy – {b['name_vi']}: {b['communes_ntm']} xã NTM, "
                         f"{bn(b['total_cost_mvnd'])} tỷ đồng (phương án {'+' if diff >= 0 else ''}{diff} xã)")
    return lines



def format_simulation_summary(summary: dict) -> str:
    """Readable text of a simulation summary, with Vietnamese number formats."""
    from ntm_sim.text import format_number_vi as fmt
    from ntm_sim.text import format_percent_vi as pct

    lines = [f"Mô phỏng: {summary['draws']} lần thử, seed {summary['seed']}, lấy mẫu {summary['sampler']}"]
    for plan, p in summary["plans"].items():
        o = p["outcomes"]["communes_ntm"]
        lines.append(f"{p['name_vi']} ({plan}): xã NTM bình quân {fmt(o['mean'], 1)} "
                     f"(5%–95%: {fmt(o['p5'])}–{fmt(o['p95'])})")
        probs = p["target_probabilities"]
        labels = {"communes_ntm": "số xã NTM", **{slot: f"xã {q}" for slot, q in tier_labels_vi(summary).items()},
                  "all_targets": "mọi mục tiêu"}
        for code, name in summary.get("district_names", {}).items():
            labels[f"district_units:{code}"] = name
        shown = ", ".join(f"{labels[k]}: {pct(v, 0)}" for k, v in probs.items() if k in labels)
        if shown:
            lines.append(f"  xác suất đạt mục tiêu – {shown}")
        sens = list(p["sensitivity"].items())[:3]
        if sens:
            lines.append("  yếu tố ảnh hưởng nhất: " + ", ".join(f"{k} ({pct(v['first_order'], 0)})" for k, v in sens))
        lines.append("  " + p["scenario_discovery"]["text_vi"])
    if summary.get("regret_communes_ntm"):
        lines.append("Hối tiếc (số xã kém phương án tốt nhất trong cùng lần thử), bình quân: " + ", ".join(
            f"{k}: {fmt(v['mean_regret'], 1)}" for k, v in summary["regret_communes_ntm"].items()))
    return "\n".join(lines)
