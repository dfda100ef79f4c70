"""*Ưu tiên theo xã* › *Bảng ưu tiên*: one run's communes in a table that sorts, filters, searches and downloads."""

from __future__ import annotations

import html
import io
import json
import re

import pandas as pd
import panel as pn
from panel.io.model import JSCode

from ntm_sim.analysis.compare import ScenarioRun, commune_probability, district_names, plannable, run_criteria
from ntm_sim.dashboard.widgets import VI, html_pane
from ntm_sim.data.io.cells import neutralise_frame
from ntm_sim.messages import Catalogue
from ntm_sim.text import fold


def _pagination(t: Catalogue) -> dict[str, object]:
    """Tabulator's pagination words (its ``langs`` entry) in ``t``'s language, from ``communes.pager.*``."""
    words: dict[str, object] = {key: t(f"communes.pager.{key}") for key in (
        "first", "first_title", "prev", "prev_title", "next", "next_title", "last", "last_title", "page_size",
        "page_title", "all")}
    words["counter"] = {key: t(f"communes.pager.{key}") for key in ("showing", "of", "rows", "pages")}
    return words


PAGINATION = {lang: _pagination(Catalogue(lang)) for lang in ("vi", "en")}


#: Tabulator's placeholder, a function it calls with the table as ``this`` as it builds the table (before any row):
#: it says when no commune matches, and mends the grid's ARIA once the pagination is in (a microtask later).
#: Tabulator puts the paging buttons straight inside ``role="grid"`` and makes the rows' holder a tab stop
#: with no role, which a grid may not own (axe-core's aria-required-children): the footer becomes a row of
#: cells, and the holder (it never scrolls: ten rows, columns fitted) leaves the tab order. A column heading
#: sorts by keyboard too: a tab stop, and Enter or Space does what a click does (Tabulator listens for clicks only);
#: the headings are marked again whenever the table is drawn (the columns change with the run shown).
GRID_FIX = """function () {
  const grid = this.element;
  if (!grid.dataset.keys) {
    grid.dataset.keys = '1';
    const reachable = () => grid.querySelectorAll('.tabulator-col.tabulator-sortable').forEach(
      (col) => col.setAttribute('tabindex', '0'));
    this.on('renderComplete', reachable);
    grid.addEventListener('keydown', (event) => {
      const col = event.target.closest && event.target.closest('.tabulator-col.tabulator-sortable');
      if (col && (event.key === 'Enter' || event.key === ' ')) {
        event.preventDefault();
        col.click();
      }
    });
    queueMicrotask(reachable);
  }
  queueMicrotask(() => {
    grid.querySelector(':scope > .tabulator-tableholder')?.removeAttribute('tabindex');
    const footer = grid.querySelector(':scope > .tabulator-footer');
    const row = footer?.querySelector(':scope > .tabulator-footer-contents');
    if (row) {
      footer.setAttribute('role', 'rowgroup');
      row.setAttribute('role', 'row');
      for (const part of row.children) part.setAttribute('role', 'gridcell');
    }
  });
  return %s;
}"""


def criteria_names(codes: object, names: dict[str, str]) -> str:
    """``TC2;TC5`` as ``Giao thông (TC2), Trường học (TC5)``."""
    if not isinstance(codes, str) or not codes.strip():
        return ""
    found = [c.strip() for c in re.split(r"[;,\s]+", codes) if c.strip()]
    return ", ".join(f"{names.get(c, c)} ({c})" for c in found)


def _year_text(year: object, first: int, t: Catalogue) -> str:
    if pd.isna(year):
        return t("table.never")
    return t("table.recognised") if float(year) < first else str(int(float(year)))


def commune_table(run: ScenarioRun, t: Catalogue = VI) -> pd.DataFrame:
    """Each commune's priority for the table: priority, place, group, money in tỷ đồng, year, chance, what it lacks.

    Communes with nothing to plan for are left out (:func:`~ntm_sim.analysis.compare.plannable`),
    as in the committee's report and ``plan.xlsx``, and the priority counts the rows kept (1, 2,
    …): the same number in all three. A recognised commune short of criteria stays (keeping the
    standard). Values stay numbers (the table sorts them); the columns are named in the page's
    language, criteria and groups by the run's own criteria set.
    """
    crit = run_criteria(run)
    names = {c.id: (c.name_vi if t.lang == "vi" else c.name_en) for c in crit.criteria}
    groups = {g.id: (g.name_vi if t.lang == "vi" else g.name_en) for g in crit.commune_groups}
    c = plannable(run)
    first = run.contract.years[0]
    table = pd.DataFrame({
        t("table.rank"): c["priority"].astype(int).to_numpy(),
        t("table.commune"): c["commune_name"].astype(str).to_numpy(),
        t("table.district"): district_names(c).to_numpy(),
        t("table.group"): [groups.get(str(g), str(g)) for g in c.get("group", pd.Series("", index=c.index))],
        t("table.met"): c["criteria_met_baseline"].astype(int).to_numpy(),
        t("table.money"): (c["cost_to_complete_mvnd"].astype(float) / 1000).round(1).to_numpy(),
        t("table.year"): [_year_text(y, first, t) for y in c["year_ntm"]],
    })
    prob = commune_probability(run)
    if prob is not None:
        p = c["commune_code"].astype(str).map(prob)
        table[t("table.chance", year=run.horizon)] = (100 * p).round(0).to_numpy()
    table[t("table.missing")] = [criteria_names(m, names) for m in c.get("missing_criteria", [None] * len(c))]
    table[t("table.reason")] = c["reason_vi" if t.lang == "vi" else "reason_en"].astype(str).to_numpy()
    return table


def district_choices(run: ScenarioRun) -> list[str]:
    """Every district of the run's data (those with nothing to plan for too), in Vietnamese alphabetical order."""
    found = [d for d in district_names(run.communes).unique().tolist() if d]
    return sorted(found, key=lambda d: (fold(d).casefold(), d))


def text_filter(df: pd.DataFrame, district: str, text: str, columns: tuple[str, str], every: str) -> pd.DataFrame:
    """Rows of one district (or every one) whose commune's name holds ``text`` (diacritics and case ignored)."""
    commune, district_col = columns
    keep = pd.Series(True, index=df.index)
    if district and district != every:
        keep &= df[district_col] == district
    wanted = fold(text or "").strip().casefold()
    if wanted:
        keep &= df[commune].map(lambda name: wanted in fold(str(name)).casefold())
    return df[keep]


class CommuneTable:
    """The communes of one run in a table that sorts, filters by district, searches and downloads as Excel.

    Parameters
    ----------
    run
        The run shown.
    t
        The page's catalogue.
    """

    PAGE = 10  # rows a page: the table fits a 1366×768 screen

    def __init__(self, run: ScenarioRun, t: Catalogue = VI) -> None:
        self.t, self.run = t, run
        self.frame = commune_table(run, t)
        every = t("table.all_districts")
        self.every = every
        districts = district_choices(run)  # none in a province without districts (from 1 July 2025)
        self.district = pn.widgets.Select(label=t("table.district"), options=[every, *districts],
                                          value=every, width=260, sizing_mode="fixed", visible=bool(districts))
        self.search = pn.widgets.TextInput(label=t("table.search"), placeholder=t("table.search_hint"), width=260,
                                           sizing_mode="fixed")
        self.table = self._tabulator()
        self.table.add_filter(pn.bind(text_filter, district=self.district, text=self.search.param.value_input,
                                      columns=(t("table.commune"), t("table.district")), every=every))
        self.download = pn.widgets.FileDownload(callback=self.excel, filename=t("table.file"),
                                                label=t("table.download"), color="success", width=260,
                                                sizing_mode="fixed")
        plan = run.folder / "plan.xlsx"  # the plan in the planners' layout, as `ntm-sim solve` wrote it
        self.plan = pn.widgets.FileDownload(file=str(plan), filename=f"ke_hoach_{run.folder.name}.xlsx",
                                            label=t("table.plan_download"), color="light", width=260,
                                            sizing_mode="fixed", embed=False, visible=plan.is_file())
        note = pn.bind(self.district_note, self.district)
        self.layout = pn.Column(pn.FlexBox(self.district, self.search, self.download, self.plan), note, self.table,
                                html_pane(self.legend()))

    def _tabulator(self) -> pn.widgets.Tabulator:
        t = self.t
        money = t("table.money")
        number = {"type": "money", "decimal": t("table.decimal"), "thousand": t("table.thousand")}
        chance = next((c for c in self.frame.columns if c.startswith(t("table.chance", year="")[:12])), None)
        tips = {chance: t("table.chance_tip", year=self.run.horizon)} if chance else {}
        return pn.widgets.Tabulator(
            self.frame, show_index=False, disabled=True, pagination="local", page_size=self.PAGE,
            layout="fit_columns", sizing_mode="stretch_width", selectable=False, header_tooltips=tips,
            formatters={money: {**number, "precision": 1}, **({chance: {**number, "precision": 0}} if chance else {})},
            widths={**{c: "7%" for c in self.frame.columns}, t("table.commune"): "10%", t("table.district"): "10%",
                    t("table.group"): "9%", t("table.missing"): "16%", t("table.reason"): "20%"},  # 100%
            # no editor: Tabulator makes an editable cell a tab stop, and blurs it when a read-only table refuses
            # the edit (focus fell to the page's BODY after the table)
            editors=dict.fromkeys(self.frame.columns),
            configuration={"locale": t.lang, "langs": {t.lang: {"pagination": PAGINATION[t.lang]}},
                           "placeholder": JSCode(GRID_FIX % json.dumps(html.escape(t("table.none"))))},
            css_classes=["commune-table"],
            stylesheets=[".tabulator-cell, .tabulator-col-title { white-space: normal !important; "
                         "word-break: normal; overflow-wrap: normal; hyphens: manual; }",
                         ".tabulator-col:focus-visible { outline-offset: -3px; }"])  # inside: the header clips

    def legend(self) -> str:
        """What the chance column means, under the table (a commune finishing early is not sure to stay)."""
        if commune_probability(self.run) is None:
            return ""
        note = self.t("table.chance_note", year=self.run.horizon)
        return f'<p class="legend" id="chance-legend">{html.escape(note)}</p>'

    def district_note(self, district: str) -> pn.viewable.Viewable:
        """A district chosen with no commune to plan for says why, instead of an empty table."""
        if not district or district == self.every or (self.frame[self.t("table.district")] == district).any():
            return html_pane("")
        note = self.t("table.district_done", district=district)
        return html_pane(f'<p class="notice" id="district-empty">{html.escape(note)}</p>')

    def excel(self) -> io.BytesIO:
        """The rows shown (filtered, sorted as the table is) as an Excel workbook; text cells kept as text."""
        view = self.table.current_view
        out = io.BytesIO()
        neutralise_frame(view).to_excel(out, index=False, sheet_name=self.t("table.sheet"))
        out.seek(0)
        return out
