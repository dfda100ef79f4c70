"""The committee's report: one self-contained HTML file, laid out as a Vietnamese administrative document on A4.

The heading follows Decree 30/2020/NĐ-CP on clerical work (công tác văn thư), Annex I: the
national title and motto at the top right ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", in capitals,
bold, 12–13 pt; "Độc lập - Tự do - Hạnh phúc", bold, 13–14 pt, a rule under it as long as the
line), the issuing body at the top left (its superior in capitals, the body in bold capitals,
a short rule under it), the document number left blank for the clerk, the place and date in
italics under the motto ("Lào Cai, ngày 07 tháng 12 năm 2026": a day below 10 and the months
January and February written with a leading 0), then the document type "BÁO CÁO" and its
summary centred in bold. Pages are A4 with the decree's margins (top and bottom 20 mm, left
30 mm, right 15 mm), Times New Roman 13 pt for the text, page numbers at the top centre from
the second page; wide tables get a landscape page of their own, as the decree allows for
tables that are not made annexes. It is marked as a draft (dự thảo): the tool prepares the
committee's document, it does not issue it.

Styles and the chart library are inline (Bokeh's own script only, never a file of a Panel
extension): the file opens, prints and travels by e-mail without an internet connection.
Every figure comes from the results folders; every word from the catalogue in the reader's
language.
"""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from pathlib import Path

from ntm_sim.analysis.compare import ScenarioRun
from ntm_sim.messages import VIETNAM_TIME, Catalogue
from ntm_sim.present.report_html import (
    CSS,
    backtest_section,
    baselines_html,
    communes_frame,
    demo_label,
    indicators_html,
    progress_alt,
    provenance_html,
    risk_alt,
    risk_html,
)

VI = Catalogue("vi")
# A4 portrait less the decree's margins (30 mm left, 15 mm right): 165 mm = 623 CSS px; charts a little narrower
PRINT_WIDTH_PX = 600
PRINT_CSS = """
@page { size: A4 portrait; margin: 20mm 15mm 20mm 30mm;
  @top-center { content: counter(page); font: 13pt "Times New Roman", serif; } }
@page :first { @top-center { content: none; } }
@page wide { size: A4 landscape; margin: 20mm 20mm 20mm 25mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 13pt; }
  .screen-only { display: none; }
  details > summary { list-style: none; font-weight: bold; }
  details > summary::-webkit-details-marker { display: none; }
  table.ntm { width: 100%; font-size: 10pt; }
  table.ntm th, table.ntm td { padding: 2px 4px; }
  table.ntm thead { display: table-header-group; }
  table.ntm tr, div.chart, section.verdict { break-inside: avoid; }
  .wide { page: wide; break-before: page; }
  .wide + .wide { break-before: page; }
  div.chart { min-height: 330px; }
  h1, h2, h3, summary { break-after: avoid; }
  section.verdict { background: none; }
  .headline-figure { font-size: 16pt; }
}
"""
DOC_CSS = """
body { font-family: "Times New Roman", Times, serif; margin: 2em; max-width: 1200px; font-size: 16px; }
table.header { width: 100%; border-collapse: collapse; margin-bottom: 12px; }
table.header td { vertical-align: top; text-align: center; width: 50%; padding: 0; }
.body-parent { text-transform: uppercase; font-size: 13pt; }
.body-name, .nation { font-weight: bold; text-transform: uppercase; font-size: 13pt; }
.motto { font-weight: bold; font-size: 14pt; display: inline-block; border-bottom: 1px solid #000;
  padding-bottom: 2px; }
.rule { display: inline-block; width: 40%; border-bottom: 1px solid #000; }
.number { font-size: 13pt; margin-top: 6px; }
.place-date { font-style: italic; font-size: 13pt; margin-top: 8px; }
.doc-type { text-align: center; font-weight: bold; font-size: 14pt; margin: 18px 0 2px; }
.doc-summary { text-align: center; font-weight: bold; font-size: 14pt; margin: 0 0 4px; }
.draft { display: inline-block; border: 1px solid #000; padding: 1px 8px; font-size: 12pt; margin-bottom: 6px; }
h2 { font-size: 14pt; }
"""


def issue_date(day: date, t: Catalogue) -> str:
    """The place and date of issue as Decree 30 writes it (a leading 0 for days 1–9 and for January and February)."""
    if t.lang == "en":
        return t("doc.place_date", day=str(day.day), month=day.strftime("%B"), year=str(day.year))
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return t("doc.place_date", day=f"{day.day:02d}", month=month, year=str(day.year))


def heading_html(t: Catalogue, day: date, title: str) -> str:
    """The document's heading: issuing body and number at the left; national title, motto, place and date right."""
    left = (f'<div class="body-parent">{html.escape(t("doc.body_parent"))}</div>'
            f'<div class="body-name">{html.escape(t("doc.body"))}</div><div class="rule"></div>'
            f'<div class="number">{html.escape(t("doc.number"))}</div>')
    right = (f'<div class="nation">{html.escape(t("doc.nation"))}</div>'
             f'<div class="motto">{html.escape(t("doc.motto"))}</div>'
             f'<div class="place-date">{html.escape(issue_date(day, t))}</div>')
    return (f'<header><div class="draft">{html.escape(t("doc.draft"))}</div>'
            f'<table class="header" role="presentation"><tr><td>{left}</td><td>{right}</td></tr></table>'
            f'<p class="doc-type">{html.escape(t("doc.type"))}</p>'
            f'<h1 class="doc-summary">{html.escape(title)}</h1><div style="text-align:center">'
            f'<span class="rule" style="width:30%"></span></div></header>')


def _bokeh_script() -> str:
    """Bokeh's library inline, and nothing else (a Panel extension's file would be looked for beside the report)."""
    from bokeh.resources import Resources

    raw = Resources(mode="inline", components=["bokeh"]).js_raw
    return "".join(f'<script type="text/javascript">\n{code}\n</script>\n' for code in raw)


def _charts(runs: list[ScenarioRun], t: Catalogue) -> tuple[str, dict[str, str], tuple[str, object] | None]:
    from bokeh.embed import components

    from ntm_sim.present.plots import ntm_chart, threshold_chart

    # a fixed width that fits A4's printable width: a stretched chart is laid out for the screen and cut on paper
    charts = {"ntm": ntm_chart(runs, t, width=PRINT_WIDTH_PX)}
    simulated = [r for r in runs if r.simulation]
    if simulated:
        charts["risk"] = threshold_chart(simulated, t, width=PRINT_WIDTH_PX)
    backtest = backtest_section([r.contract.dataset for r in runs], t, width=PRINT_WIDTH_PX)
    if backtest is not None:
        charts["backtest"] = backtest[1]
    script, divs = components(charts)
    return script, divs, backtest


def _communes(runs: list[ScenarioRun], t: Catalogue) -> str:
    out = []
    for r in runs:
        table = communes_frame(r, t).to_html(index=False, escape=True, classes="ntm", border=0)
        note = (f'<p class="legend">{html.escape(t("table.chance_note", year=r.horizon))}</p>'
                if r.sim_communes is not None else "")
        # open: a closed <details> prints as its summary line only
        out.append(f'<details open><summary>{html.escape(r.name)}</summary>{table}{note}</details>')
    return "".join(out)


def _body(runs: list[ScenarioRun], t: Catalogue, divs: dict[str, str], backtest: tuple[str, object] | None,
          curves: dict | None) -> str:
    from ntm_sim.present.verdict import verdict_html

    risk_chart = (f'<p class="chart-alt">{html.escape(risk_alt([r for r in runs if r.simulation], t))}</p>'
                  f'<div class="chart">{divs["risk"]}</div>') if "risk" in divs else ""
    demo = demo_label(runs, t)
    banner = f'<div class="demo" id="demo-banner">{html.escape(demo)}</div>' if demo else ""
    sections = [
        banner, f'<h2>{html.escape(t("section.verdict"))}</h2>', verdict_html(runs, t, curves),
        f'<section class="wide"><h2>{html.escape(t("section.indicators"))}</h2>{indicators_html(runs, t)}</section>',
        f'<h2>{html.escape(t("section.progress"))}</h2><p class="chart-alt">{html.escape(progress_alt(runs, t))}</p>'
        f'<div class="chart">{divs["ntm"]}</div>',
        f'<section class="wide"><h2>{html.escape(t("section.baselines"))}</h2>{baselines_html(runs, t)}</section>',
        f'<h2>{html.escape(t("section.risk"))}</h2>{risk_html(runs, t)}{risk_chart}',
        "" if backtest is None else backtest[0].format(chart=divs["backtest"]),
        f'<section class="wide"><h2>{html.escape(t("section.communes"))}</h2>{_communes(runs, t)}</section>',
        f'<section class="wide"><h2>{html.escape(t("section.provenance"))}</h2>{provenance_html(runs, t)}</section>',
    ]
    return "\n".join(sections)


def build_report(runs: list[ScenarioRun], *, title: str | None = None, t: Catalogue = VI,
                 curves: dict | None = None) -> str:
    """One self-contained HTML page comparing ``runs`` for the steering committee, in ``t``'s language.

    ``curves``: the runs' budget curves by run name (the verdict's money for the target at the
    confidence level; the caller reads those stored beside the runs,
    :func:`ntm_sim.run.curve_job.stored_curve_of`); without one, the verdict says the curve is
    not computed.
    """
    from ntm_sim import __version__

    if not runs:
        raise ValueError("a report needs at least one results folder")
    curves = curves or {}
    title = title or t("doc.summary")
    script, divs, backtest = _charts(runs, t)
    now = datetime.now(UTC).astimezone(VIETNAM_TIME)
    made = t("doc.made", when=now.strftime("%d/%m/%Y %H:%M"), version=__version__,
             names=", ".join(r.name for r in runs))
    return f"""<!DOCTYPE html>
<html lang="{t.lang}">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
{DOC_CSS}
{CSS}
{PRINT_CSS}
</style>
{_bokeh_script()}
{script}
</head>
<body>
{heading_html(t, now.date(), title)}
<p>{html.escape(made)}</p>
{_body(runs, t, divs, backtest, curves)}
</body>
</html>
"""


def write_report(runs: list[ScenarioRun], path: Path | str, *, title: str | None = None, force: bool = False,
                 t: Catalogue = VI, curves: dict | None = None) -> Path:
    """Write :func:`build_report` to ``path`` atomically (a failed write leaves nothing).

    An existing file is replaced only with ``force`` (see :mod:`ntm_sim.storage`).
    """
    from ntm_sim.storage import atomic_file

    path = Path(path)
    text = build_report(runs, title=title, t=t, curves=curves)
    with atomic_file(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
