"""*Sửa kịch bản*: a base scenario's levers as widgets; the library checks them (:mod:`ntm_sim.run.run_request`)."""

from __future__ import annotations

import panel as pn

from ntm_sim.dashboard.widgets import VI, html_pane, number_input
from ntm_sim.messages import Catalogue
from ntm_sim.model.scenario import Scenario, resolve_data_path
from ntm_sim.run.run_request import ScenarioEdits, apply_edits
from ntm_sim.run.workflow import scenario_dataset

PRESETS = ("default", "pessimistic", "disaster_2024")


def dataset_choices(sc: Scenario, lang: str = "vi") -> tuple[dict[str, str], dict[str, str]]:
    """Communes (``name – district`` → code) and funding sources (name in ``lang`` → id) of a scenario's data."""
    def load() -> tuple[dict[str, str], dict[str, str]]:
        ds = scenario_dataset(sc)
        communes = {f"{row.commune_name} – {row.district_name}": str(code) for code, row in ds.communes.iterrows()}
        column = "name_en" if lang == "en" and "name_en" in ds.sources else "name_vi"
        sources = {str(row[column] or row["name_vi"]): str(sid) for sid, row in ds.sources.iterrows()}
        return dict(sorted(communes.items())), sources

    return pn.state.as_cached(f"ntm-sim-choices-{resolve_data_path(sc)}-{lang}", load)


class ScenarioEditor:
    """Change a base scenario's levers.

    The levers: the target, a lock, money by source and by year, carry-over, the objective and the
    uncertainty preset.

    Parameters
    ----------
    t
        The page's catalogue.
    """

    def __init__(self, t: Catalogue = VI) -> None:
        self.t = t
        self.target = number_input(label=t("edit.target"), value=None, start=0, end=100_000, step=1)
        self.commune = pn.widgets.Select(label=t("edit.commune"), options={t("edit.no_lock"): ""}, value="")
        self.action = pn.widgets.Select(label=t("edit.action"), options={t("edit.force"): "force",
                                                                         t("edit.forbid"): "forbid"}, value="force")
        self.lock_year = pn.widgets.Select(label=t("edit.lock_year"), options={t("edit.every_year"): ""}, value="")
        self.source = pn.widgets.Select(label=t("edit.source"), options={t("edit.no_source"): ""}, value="")
        self.source_pct = number_input(label=t("edit.source_pct"), value=100, start=0, end=500, step=10)
        self.year = pn.widgets.Select(label=t("edit.year"), options={t("edit.no_year"): ""}, value="")
        self.year_pct = number_input(label=t("edit.year_pct"), value=100, start=0, end=500, step=10)
        self.carry, self.mode, self.preset = self._choices(t)
        self.status = html_pane("")
        rows = (pn.FlexBox(self.target, self.commune, self.action, self.lock_year),
                pn.FlexBox(self.source, self.source_pct, self.year, self.year_pct),
                pn.FlexBox(self.carry, self.mode, self.preset))
        self.layout = pn.Card(*rows, self.status, title=t("edit.title"), collapsed=True,
                              sizing_mode="stretch_width")
        self._for: str | None = None

    @staticmethod
    def _choices(t: Catalogue) -> tuple[pn.widgets.Select, pn.widgets.Select, pn.widgets.Select]:
        keep = t("edit.keep")
        carry = pn.widgets.Select(label=t("edit.carry"), options={keep: "", t("edit.carry_on"): "on",
                                                                   t("edit.carry_off"): "off"}, value="")
        mode = pn.widgets.Select(label=t("edit.mode"), options={keep: "", t("edit.max"): "max-achievement",
                                                                 t("edit.min_cost"): "min-cost"}, value="")
        preset = pn.widgets.Select(label=t("edit.preset"), options={
            keep: "", **{t(f"edit.preset_{name}"): name for name in PRESETS}}, value="")
        return carry, mode, preset

    @property
    def widgets(self) -> tuple[pn.widgets.Widget, ...]:
        """Every lever (a change to any of them must be checked again)."""
        return (self.target, self.commune, self.action, self.lock_year, self.source, self.source_pct, self.year,
                self.year_pct, self.carry, self.mode, self.preset)

    def fill(self, sc: Scenario) -> None:
        """Offer the communes and sources of ``sc``'s data, its years, and its own target."""
        communes, sources = dataset_choices(sc, self.t.lang)
        t = self.t
        years = {str(y): str(y) for y in range(sc.years[0], sc.years[1] + 1)}
        self.commune.options = {t("edit.no_lock"): "", **communes}
        self.source.options = {t("edit.no_source"): "", **sources}
        self.year.options = {t("edit.no_year"): "", **years}
        self.lock_year.options = {t("edit.every_year"): "", **years}
        self.target.value = sc.targets.communes_ntm
        self._for = sc.name

    def edits(self) -> ScenarioEdits:
        """What the widgets hold, as the library's edits (checked when applied)."""
        return ScenarioEdits(target=self.target.value, commune=self.commune.value, action=self.action.value,
                             lock_year=self.lock_year.value, source=self.source.value,
                             source_pct=self.source_pct.value, year=self.year.value, year_pct=self.year_pct.value,
                             carry=self.carry.value, mode=self.mode.value, preset=self.preset.value)

    def apply(self, sc: Scenario, display: str) -> Scenario:
        """``sc`` with the edits, checked as ``ntm-sim solve`` checks a file (an InputError names ``display``)."""
        return apply_edits(sc, self.edits(), display)
