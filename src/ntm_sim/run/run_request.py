"""A new run as a planner asks for it from the page: checked, and turned into a scenario and a job.

What the dashboard's *Thử một kịch bản vốn mới* and its scenario editor send (any type, any
size: a widget's bounds hold only in an honest browser) is checked here, before any work,
and every refusal is worded in the page's language (:class:`ntm_sim.messages.Catalogue`).
A checked request becomes a scenario exactly as ``ntm-sim solve`` would read it from a file
(:func:`checked_scenario`), and then the child process's job (:func:`job_request`). The
dashboard only lays out widgets over these functions.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from ntm_sim.bounds import MAX_DRAWS
from ntm_sim.errors import InputError
from ntm_sim.messages import Catalogue, folder_name
from ntm_sim.model.scenario import Scenario, load_scenario
from ntm_sim.model.scenario_folder import ORDER_FILE, folder_order  # noqa: F401  (the page's names)
from ntm_sim.run.jobs import JobRequest

# Uploads travel to the server base64-encoded inside one websocket message, and Bokeh's
# server closes a session whose message exceeds its limit (20 MiB by default,
# ``panel serve --websocket-max-message-size``): 10 MB becomes about 13.3 MB on the way.
MAX_UPLOAD_BYTES = 10_000_000
DRAWS = (0, MAX_DRAWS)
TIME_LIMIT_S = (5, 3600)
SCALE = (0.3, 1.5)
NAME_MAX = 64
VI = Catalogue("vi")


@dataclass(frozen=True)
class RunRequest:
    """A new run as the planner asked for it, checked (see :func:`check_request`).

    ``label`` is the name the planner typed (the run's title; empty: the base's title and
    its share of money), ``folder`` the results folder's name derived from it.
    """

    label: str
    folder: str
    base: Path
    scale: float
    draws: int
    time_limit: float
    deterministic: bool


@dataclass(frozen=True)
class ScenarioEdits:
    """The levers the page's editor changes on a base scenario (empty or 100%: unchanged).

    Attributes
    ----------
    target
        Communes NTM by the horizon (None: the base's).
    commune, action, lock_year
        A lock: the commune's code, ``force`` or ``forbid``, and the one year no project may
        start in (empty: every year).
    source, source_pct, year, year_pct
        Money of one source, or of one year, as a percentage of the base's.
    carry
        ``on`` or ``off`` (carry-over of unspent money), empty: the base's.
    mode
        ``max-achievement`` or ``min-cost``, empty: the base's.
    preset
        The uncertainty preset as a whole, empty: the base's settings.
    """

    target: object = None
    commune: object = ""
    action: object = "force"
    lock_year: object = ""
    source: object = ""
    source_pct: object = 100
    year: object = ""
    year_pct: object = 100
    carry: object = ""
    mode: object = ""
    preset: object = ""


def shown(value: object, t: Catalogue = VI) -> str:
    """A value a client sent, for a message: in the page's number format, never long."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
        return t.number(float(value), 0 if float(value).is_integer() else 2)
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def in_range(value: object, low: float, high: float, *, whole: bool = False) -> bool:
    """Whether ``value`` is a finite real number in ``[low, high]`` (and whole, if asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    x = float(value)
    eps = 1e-9 * max(1.0, abs(high))  # a slider's steps of 0.05 land a hair beyond 1.5
    return math.isfinite(x) and low - eps <= x <= high + eps and (not whole or x.is_integer())


def name_problems(label: str, t: Catalogue = VI) -> list[str]:
    """Why ``label`` cannot name a result, or nothing.

    Any text of at most 64 characters, Vietnamese letters with their diacritics included,
    with at least one letter or digit and no control characters; its folder's name is
    derived from it (:func:`ntm_sim.messages.folder_name`).
    """
    if not label:
        return [t("name.empty")]
    out = []
    if len(label) > NAME_MAX:
        out.append(t("name.long", n=t.number(len(label)), max=NAME_MAX))
    control = list(dict.fromkeys(c for c in label if not c.isprintable()))
    if control:
        out.append(t("name.control", shown=" ".join(f"U+{ord(c):04X}" for c in control[:10])))
    if not folder_name(label):
        out.append(t("name.no_letters"))
    return out


def _value_problems(files: dict[str, Path], t: Catalogue, *, base: object, scale: object, draws: object,
                    time_limit: object) -> list[str]:
    problems = []
    if not isinstance(base, str) or base not in files:
        problems.append(t("check.base", value=shown(base, t)))
    if not in_range(scale, *SCALE):
        problems.append(t("check.scale", low=round(SCALE[0] * 100), high=round(SCALE[1] * 100),
                          value=shown(scale, t)))
    if not in_range(draws, *DRAWS, whole=True):
        problems.append(t("check.draws", low=t.number(DRAWS[0]), high=t.number(DRAWS[1]), value=shown(draws, t)))
    if not in_range(time_limit, *TIME_LIMIT_S):
        problems.append(t("check.limit", low=t.number(TIME_LIMIT_S[0]), high=t.number(TIME_LIMIT_S[1]),
                          value=shown(time_limit, t)))
    return problems


def check_request(files: dict[str, Path], *, base: object, scale: object, name: object, draws: object,
                  time_limit: object, deterministic: object, t: Catalogue = VI) -> tuple[RunRequest | None, list[str]]:
    """Check what the widgets hold before any work; every refusal in the page's language.

    Parameters
    ----------
    files
        Scenario files offered, by name.
    base, scale, name, draws, time_limit, deterministic
        The widgets' values, as a client may have set them (any type, any size).
    t
        The page's catalogue.

    Returns
    -------
    tuple
        The request (None if refused) and the reasons it is refused.
    """
    problems = _value_problems(files, t, base=base, scale=scale, draws=draws, time_limit=time_limit)
    label = unicodedata.normalize("NFC", name if isinstance(name, str) else "").strip()
    folder = folder_name(label)
    if not label and not problems:  # the default name needs a valid base and scale
        folder = f"{base}_{round(float(scale) * 100)}"  # type: ignore[arg-type]
    if label or not problems:
        problems += name_problems(label or folder, t)
    if problems:
        return None, problems
    # checked above: finite reals in range (the clamp only trims a slider's rounding)
    x_scale, x_draws, x_limit = float(scale), int(draws), float(time_limit)  # type: ignore[arg-type]
    return RunRequest(label=label, folder=folder, base=files[str(base)], scale=min(max(x_scale, SCALE[0]), SCALE[1]),
                      draws=x_draws, time_limit=x_limit, deterministic=bool(deterministic)), []


def upload_problems(filename: object, content: object, t: Catalogue = VI) -> list[str]:
    """Why an uploaded file is refused before it is parsed, or nothing."""
    if not isinstance(content, bytes):
        return [t("upload.one")]
    if len(content) > MAX_UPLOAD_BYTES:
        return [t("upload.big", size=t.number(len(content) / 1e6, 1), limit=t.number(MAX_UPLOAD_BYTES / 1e6))]
    if not isinstance(filename, str) or not filename.strip():
        return [t("upload.no_name")]
    return []


def variant(req: RunRequest) -> Scenario:
    """The scenario ``req`` asks for: its base with the money scaled, named and titled.

    Titled as the planner named it (in either language), else after the base and its share of
    money, in Vietnamese and in English.

    Raises
    ------
    InputError
        If the base scenario file cannot be read.
    """
    sc = load_scenario(req.base)
    if req.label:
        return sc.scaled(req.scale, name=req.folder, title=req.label, title_en="")
    vi, en = Catalogue("vi"), Catalogue("en")
    title = vi("run.title", base=sc.display_title("vi") or sc.name, pct=vi.number(100 * req.scale))
    title_en = en("run.title", base=sc.display_title("en") or sc.name, pct=en.number(100 * req.scale))
    return sc.scaled(req.scale, name=req.folder, title=title, title_en=title_en)


def _share(pct: object) -> object:
    """A percentage typed in the page as a share (anything else is passed on for the scenario check to name)."""
    return pct / 100 if isinstance(pct, int | float) and not isinstance(pct, bool) else pct


def _edited_budget(budget: dict, edits: ScenarioEdits) -> None:
    """The budget's levers of ``edits`` written into ``budget`` (a scenario's ``budget`` section)."""
    if edits.source and edits.source_pct != 100:
        budget.setdefault("source_scale", {})[edits.source] = _share(edits.source_pct)
    if edits.year and edits.year_pct != 100:
        year = int(edits.year) if str(edits.year).isdigit() else edits.year
        budget.setdefault("year_scale", {})[year] = _share(edits.year_pct)
    if edits.carry:
        budget["carry_over"] = edits.carry == "on"


def apply_edits(sc: Scenario, edits: ScenarioEdits, display: str) -> Scenario:
    """``sc`` with the edits, checked as ``ntm-sim solve`` checks a scenario file.

    Raises
    ------
    InputError
        Naming ``display`` and each key that is not valid, with what was expected.
    """
    data = sc.model_dump(mode="json", exclude_defaults=True)
    if edits.target is not None:
        data.setdefault("targets", {})["communes_ntm"] = edits.target
    if edits.commune:
        lock = {"commune": edits.commune, "action": edits.action}
        if edits.lock_year:
            lock["year"] = int(edits.lock_year) if str(edits.lock_year).isdigit() else edits.lock_year
        data["locks"] = [*data.get("locks", []), lock]
    _edited_budget(data.setdefault("budget", {}), edits)
    if edits.mode:
        data["mode"] = edits.mode
    if edits.preset:  # the preset's assumptions as a whole, not mixed with the base scenario's own
        data["uncertainty"] = {"preset": edits.preset}
    return checked_scenario(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), display,
                            Path(sc.source_file or display))


def checked_scenario(text: str, display: str, beside: Path) -> Scenario:
    """A scenario's YAML ``text`` read exactly as ``ntm-sim solve`` reads a file (its problems named ``display``).

    ``beside``: the file whose folder relative paths in it (its ``data``) are taken from.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            sc = load_scenario(path)
        except InputError as exc:
            raise InputError([dataclasses.replace(p, file=display) for p in exc.problems]) from None
    sc.source_file = str(beside)
    return sc


def job_request(root: Path, req: RunRequest, scenario: Scenario, upload: tuple[str, bytes] | None = None
                ) -> JobRequest:
    """What the run's child process does: ``scenario`` (checked) into ``root/req.folder``."""
    return JobRequest(scenario_yaml=scenario.to_yaml(), scenario_file=str(req.base), out=str(root / req.folder),
                      draws=req.draws, time_limit=req.time_limit, deterministic=req.deterministic,
                      upload_name=upload[0] if upload else None, upload=upload[1] if upload else None,
                      uploads=str(root / ".uploads" / req.folder) if upload else None)


def scenario_files(folder: Path) -> dict[str, Path]:
    """The scenario files of ``folder`` by name, in the folder's order (:func:`folder_order`)."""
    return {stem: folder / f"{stem}.yaml" for stem in folder_order(folder)} if folder.is_dir() else {}


def scenario_titles(files: dict[str, Path], t: Catalogue = VI) -> dict[str, str]:
    """Select options for scenario files: title → file stem (the stem beside a title two files share).

    The title in the page's language where the file has one (``title_en``).
    """
    titles = {}
    for stem, path in files.items():
        try:
            titles[stem] = load_scenario(path).display_title(t.lang) or stem
        except InputError:
            titles[stem] = stem  # refused with its problems if chosen
    counts: dict[str, int] = {}
    for title in titles.values():
        counts[title] = counts.get(title, 0) + 1
    return {(title if counts[title] == 1 else f"{title} ({stem})"): stem for stem, title in titles.items()}
