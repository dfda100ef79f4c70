"""Criteria sets as versioned data.

A criteria set (for example Decision 318/QĐ-TTg for 2021–2025) is shipped as a YAML
file under ``ntm_sim/data/criteria``. Nothing in the library names a criterion: code
reads ids, kinds, tiers and commune groups from the loaded :class:`CriteriaSet`.
"""

from __future__ import annotations

import math
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.text import fold, nfc, shipped_yaml

Kind = Literal["infrastructure", "development", "governance"]

DEFAULT_CRITERIA_SET = "qd318-2021-2025"
#: The data's cost column of each tier place: the advanced tier and the top tier (kiểu mẫu, or hiện đại).
TIER_COST_COLUMNS = {"advanced": "advanced_cost_mvnd", "model": "model_cost_mvnd"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Group(_Model):
    """A group of criteria (nhóm tiêu chí)."""

    id: str
    number: int
    name_vi: str
    name_en: str


class KindInfo(_Model):
    """How money moves a criterion: infrastructure, development or governance."""

    id: Kind
    name_vi: str
    name_en: str


class Criterion(_Model):
    """One criterion (tiêu chí) of a set."""

    id: str
    number: int
    group: str
    kind: Kind
    name_vi: str
    name_en: str
    lead_time_years: int = Field(ge=1, le=10)
    aliases: tuple[str, ...] = ()
    provisional: tuple[str, ...] = Field(default=(), description="Fields the public text does not give.")

    @property
    def label_vi(self) -> str:
        """Return the short label planners use, e.g. ``"TC10 Thu nhập"``."""
        return f"{self.id} {self.name_vi}"


class Tier(_Model):
    """A commune tier the criteria set issues: NTM, and the tiers above it.

    2021–2025: NTM, advanced (nâng cao), model (kiểu mẫu); 2026–2030: NTM and the
    modern-commune pilot (hiện đại, thí điểm). ``short_vi`` and ``short_en`` are what
    tells the tier apart in labels ("nâng cao", "advanced"): tables say "Xã NTM nâng
    cao", "nâng cao 20"; they default to the full names.
    """

    id: str
    name_vi: str
    name_en: str
    requires: str
    short_vi: str = ""
    short_en: str = ""
    upgrade_cost_column: str | None = None
    lead_time_years: int = Field(default=1, ge=1, le=10)
    source: str = ""
    provisional: bool = False

    @property
    def label_vi(self) -> str:
        """What tells the tier apart, in Vietnamese ("nâng cao", "hiện đại (thí điểm)")."""
        return self.short_vi or self.name_vi

    @property
    def label_en(self) -> str:
        """What tells the tier apart, in English ("advanced", "modern (pilot)")."""
        return self.short_en or self.name_en


class DistrictTier(_Model):
    """A district-level recognition rule (Decision 320)."""

    id: str
    name_vi: str
    name_en: str
    min_share_communes_ntm: float = Field(ge=0, le=1)
    min_share_communes_advanced: float = Field(ge=0, le=1)
    min_share_communes_model: float = Field(default=0.0, ge=0, le=1)
    cost_column: str
    requires: str | None = None
    source: str = ""


class CommuneGroup(_Model):
    """A commune group by number of criteria met (nhóm xã)."""

    id: str
    name_vi: str
    name_en: str
    min_met: int | Literal["all"]
    max_met: int | None = None
    d07_coefficient: float = Field(ge=0)
    provisional: bool = False


class CommuneClass(_Model):
    """A class of communes whose thresholds differ (Decision 51/2025: groups 1, 2 and 3)."""

    id: str
    name_vi: str
    name_en: str
    rule_vi: str


class CommuneRevocation(_Model):
    """When a commune's recognition is revoked: too many criteria of the set in force not met.

    Revoked when at least ``unmet_share_with_key`` of the criteria are not met and a key
    criterion is among them, or when at least ``unmet_share`` are not met (Decision
    18/2022/QĐ-TTg for 2021–2025).
    """

    unmet_share_with_key: float = Field(gt=0, le=1)
    unmet_share: float = Field(gt=0, le=1)
    key_criteria: tuple[str, ...] = ()


class DistrictRevocation(_Model):
    """When a district unit's recognition is revoked: too many of its communes revoked."""

    revoked_communes_share: float = Field(gt=0, le=1)


class Revocation(_Model):
    """The revocation rule of a criteria set (data, never code).

    A recognised commune keeps its recognition until this rule triggers; whether a
    triggered rule is carried out in a year is an uncertainty of the simulation
    (``revocation_probability``), while a plan on paper applies the rule as written.
    """

    source: str
    commune: CommuneRevocation
    district: DistrictRevocation | None = None
    provisional: bool = False

    def unmet_limits(self, n_criteria: int) -> tuple[int, int]:
        """The fewest unmet criteria that revoke with a key one among them, and without.

        ``30%`` of 19 criteria is 5.7, so 6 unmet (with a key one) revoke; ``50%`` of 19
        is 9.5, so 10 unmet revoke.
        """
        with_key = math.ceil(self.commune.unmet_share_with_key * n_criteria - 1e-9)
        alone = math.ceil(self.commune.unmet_share * n_criteria - 1e-9)
        return max(1, with_key), max(1, alone)


class CriteriaSet(_Model):
    """A versioned set of criteria with its tier, district and group rules.

    Parameters
    ----------
    id, version, name_vi, name_en, source, period
        Identification and provenance of the set.
    criteria
        The criteria in their official order.
    groups, kinds, tiers, district_tiers, commune_groups
        Rules read from the same file.
    effective_from, indicators, commune_classes
        When the set applies, how many indicators its criteria have, and the classes of
        communes whose thresholds differ (thresholds themselves are not modelled).
    provisional
        Set-level values the public text does not give (see :meth:`provisional_items`).
    """

    id: str
    version: str
    name_vi: str
    name_en: str
    source: str
    period: tuple[int, int]
    criteria: tuple[Criterion, ...]
    groups: tuple[Group, ...]
    kinds: tuple[KindInfo, ...]
    tiers: tuple[Tier, ...]
    district_tiers: tuple[DistrictTier, ...]
    commune_groups: tuple[CommuneGroup, ...]
    d07_excludes_especially_difficult: bool = True
    effective_from: str = ""
    indicators: int | None = None
    commune_classes: tuple[CommuneClass, ...] = ()
    revocation: Revocation | None = None
    provisional: tuple[str, ...] = ()
    _lookup: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def effective_year(self) -> int | None:
        """The year the set comes into force (from ``effective_from``), or None if not given.

        A commune recognised under an earlier set is assessed under this one from this
        year; before it, it counts as meeting every criterion (it met the set it was
        recognised under).
        """
        return int(self.effective_from[:4]) if self.effective_from else None

    @model_validator(mode="after")
    def _check(self) -> CriteriaSet:
        ids = [c.id for c in self.criteria]
        if len(set(ids)) != len(ids):
            raise ValueError("criterion ids must be unique")
        numbers = [c.number for c in self.criteria]
        if len(set(numbers)) != len(numbers):
            raise ValueError("criterion numbers must be unique")
        group_ids = {g.id for g in self.groups}
        for c in self.criteria:
            if c.group not in group_ids:
                raise ValueError(f"criterion {c.id}: unknown group {c.group!r}")
        tier_ids = [t.id for t in self.tiers]
        if not tier_ids or self.tiers[0].requires != "all_criteria":
            raise ValueError("the first tier must require all_criteria")
        for prev, tier in zip(self.tiers, self.tiers[1:], strict=False):
            if tier.requires != prev.id:
                raise ValueError(f"tier {tier.id} must require {prev.id} (tiers nest)")
        if self.revocation is not None and (bad := set(self.revocation.commune.key_criteria) - set(ids)):
            raise ValueError(f"revocation: key criteria {sorted(bad)} are not criteria of the set")
        if len(set(tier_ids)) != len(tier_ids):
            raise ValueError("tier ids must be unique")
        if len(self.tiers) > 3:
            raise ValueError(f"tiers: {len(self.tiers) - 1} tiers above NTM ({', '.join(tier_ids[1:])}); the tool "
                             "plans at most two (an advanced tier and a top tier on it)")
        for slot, tier in self.tier_slots().items():
            column = TIER_COST_COLUMNS[slot]
            if tier.upgrade_cost_column not in (None, column):
                raise ValueError(f"tier {tier.id}: upgrade_cost_column must be {column} (the data's column for "
                                 f"the {'advanced' if slot == 'advanced' else 'top'} tier), not "
                                 f"{tier.upgrade_cost_column}")
        self._check_district_tiers()
        return self

    def _check_district_tiers(self) -> None:
        """District tiers may ask only for commune tiers the set issues, and nest on its ``ntm`` unit."""
        ids = {t.id for t in self.district_tiers}
        if len(ids) != len(self.district_tiers):
            raise ValueError("district tier ids must be unique")
        if ids - {"ntm", "advanced"}:
            raise ValueError(f"district tiers {sorted(ids - {'ntm', 'advanced'})}: the tool knows the district "
                             "unit (id ntm) and the advanced district (id advanced, requires ntm)")
        if "advanced" in ids and "ntm" not in ids:
            raise ValueError("district tier advanced requires the district unit (id ntm)")
        for t in self.district_tiers:
            if t.min_share_communes_advanced > 0 and self.advanced_tier is None:
                raise ValueError(f"district tier {t.id} asks for advanced communes, but the set issues no "
                                 "advanced commune tier")
            if t.min_share_communes_model > 0 and self.top_tier is None:
                raise ValueError(f"district tier {t.id} asks for model communes, but the set issues no tier "
                                 "above NTM")

    @property
    def advanced_tier(self) -> Tier | None:
        """The middle tier (xã NTM nâng cao), which the top tier requires; None when the set issues none.

        Decision 318 (2021–2025): advanced. Decision 51 (2026–2030): none, the modern
        commune nests directly on NTM.
        """
        return self.tiers[1] if len(self.tiers) == 3 else None

    @property
    def top_tier(self) -> Tier | None:
        """The highest tier above NTM (kiểu mẫu 2021–2025; hiện đại, thí điểm 2026–2030); None if only NTM."""
        return self.tiers[-1] if len(self.tiers) >= 2 else None

    def tier_slots(self) -> dict[str, Tier]:
        """The tiers above NTM by the name results give their count: ``advanced`` (middle) and ``model`` (top).

        Decision 318: ``{"advanced": nâng cao, "model": kiểu mẫu}``; Decision 51:
        ``{"model": hiện đại (thí điểm)}``.
        """
        slots = {"advanced": self.advanced_tier, "model": self.top_tier}
        return {slot: tier for slot, tier in slots.items() if tier is not None}

    def tier_labels(self) -> dict[str, dict[str, str]]:
        """:meth:`tier_slots` as the labels result files carry (``summary.json`` ``tiers``)."""
        return {slot: {"id": t.id, "name_vi": t.name_vi, "name_en": t.name_en, "short_vi": t.label_vi,
                       "short_en": t.label_en} for slot, t in self.tier_slots().items()}

    @property
    def district_tier_ids(self) -> set[str]:
        """Ids of the district tiers the set issues (``ntm``: district unit; ``advanced``: advanced district)."""
        return {t.id for t in self.district_tiers}

    def model_post_init(self, context: object, /) -> None:
        """Index every way a sheet may name a criterion (code, number, names, aliases)."""
        lookup = self._lookup
        for c in self.criteria:
            keys = [
                c.id,
                str(c.number),
                f"tc{c.number}",
                f"tc {c.number}",
                f"tc{c.number:02d}",
                f"tiêu chí {c.number}",
                f"tiêu chí số {c.number}",
                f"tieu chi {c.number}",
                c.name_vi,
                c.name_en,
                f"{c.number}. {c.name_vi}",
                f"{c.number} {c.name_vi}",
                *c.aliases,
            ]
            for key in keys:
                for variant in (_key(key), _key(fold(key))):
                    lookup.setdefault(variant, c.id)

    def provisional_items(self) -> list[str]:
        """What in this set the public text does not give (empty for a set taken whole from its decision).

        Every output that uses the set lists these, so that nothing provisional passes for fact.
        """
        items = list(self.provisional)
        items += [f"{c.id}: {', '.join(c.provisional)}" for c in self.criteria if c.provisional]
        items += [f"tier {t.id}" for t in self.tiers if t.provisional]
        items += [f"commune group {g.id}" for g in self.commune_groups if g.provisional]
        if self.revocation is not None and self.revocation.provisional:
            items.append("revocation rule")
        return items

    @property
    def ids(self) -> list[str]:
        """Criterion ids in official order."""
        return [c.id for c in self.criteria]

    def __len__(self) -> int:
        return len(self.criteria)

    def __getitem__(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)

    def by_kind(self, kind: str) -> list[str]:
        """Return the ids of the criteria of one kind."""
        return [c.id for c in self.criteria if c.kind == kind]

    def match(self, header: object) -> str | None:
        """Return the criterion id a column header stands for, or None.

        Accepts numbers (``10``), codes (``"TC10"``, ``"Tiêu chí 10"``), names in
        Vietnamese with or without diacritics, and ``"10. Thu nhập"``.
        """
        if header is None:
            return None
        if isinstance(header, float) and header.is_integer():
            header = int(header)
        text = _key(str(header))
        if not text:
            return None
        hit = self._lookup.get(text) or self._lookup.get(_key(fold(text)))
        if hit:
            return hit
        # "Tiêu chí 10: Thu nhập", "TC10 - Thu nhập", "10 - Thu nhập": take the leading code
        m = re.match(r"^(?:tc|tieu chi|tiêu chí)?\s*(?:so |số )?(\d{1,2})\b", text)
        if m and (rest := text[m.end() :].strip(" .:-–")):
            number_hit = self._lookup.get(m.group(1))
            name_hit = self._lookup.get(_key(rest)) or self._lookup.get(_key(fold(rest)))
            if number_hit and (name_hit is None or name_hit == number_hit):
                return number_hit
        return None

    def group_of(self, criteria_met: int) -> CommuneGroup:
        """Return the commune group for a count of criteria met."""
        n = len(self.criteria)
        for g in self.commune_groups:
            lo = n if g.min_met == "all" else g.min_met
            hi = n if g.max_met is None else g.max_met
            if lo <= criteria_met <= hi:
                return g
        raise ValueError(f"no commune group covers {criteria_met} criteria met")

    def tier(self, tier_id: str) -> Tier:
        """Return a tier by id."""
        for t in self.tiers:
            if t.id == tier_id:
                return t
        raise KeyError(tier_id)


def _key(text: str) -> str:
    text = nfc(text).casefold().strip()
    text = re.sub(r"\s+", " ", text)
    return text


@cache
def _shipped() -> dict[str, str]:
    """The shipped criteria files' text by set id (each file parsed once)."""
    folder = resources.files("ntm_sim") / "data" / "criteria"
    texts = [entry.read_text(encoding="utf-8") for entry in folder.iterdir() if entry.name.endswith(".yaml")]
    return {shipped_yaml(text)["id"]: text for text in texts}


def available_sets() -> list[str]:
    """List the ids of the criteria sets shipped with the package."""
    return sorted(_shipped())


def best_criteria_set(labels: list[object]) -> CriteriaSet:
    """The shipped set whose criteria ``labels`` (headers or a criterion column) name best.

    Most distinct criteria named wins; ties go to the set with fewest criteria not named
    (TC1…TC10 is the 2026–2030 set, TC1…TC19 the 2021–2025 set), then to the default set.
    """
    best: tuple[tuple[int, int, bool], str] | None = None
    for set_id in available_sets():
        crit = load_criteria_set(set_id)
        named = {hit for label in labels if (hit := crit.match(label)) is not None}
        score = (len(named), len(named) - len(crit), set_id == DEFAULT_CRITERIA_SET)
        if best is None or score > best[0]:
            best = (score, set_id)
    return load_criteria_set(best[1] if best else DEFAULT_CRITERIA_SET)


def load_criteria_set(source: str | Path = DEFAULT_CRITERIA_SET) -> CriteriaSet:
    """Load a criteria set by id (shipped with the package) or from a YAML file.

    Parameters
    ----------
    source
        A set id such as ``"qd318-2021-2025"`` or a path to a YAML file.

    Returns
    -------
    CriteriaSet

    Raises
    ------
    InputError
        For a file that is not a usable criteria set: each problem names the file and the key.
    KeyError
        For an id that names no shipped set.
    """
    path = Path(source)
    if path.suffix in {".yaml", ".yml"} and path.exists():
        try:
            return _parse(path.read_text(encoding="utf-8"))
        except ValidationError as exc:
            raise InputError([Problem(str(path), Text("criteria.bad_key",
                                                      key=".".join(str(p) for p in e["loc"]) or "(file)",
                                                      problem=e["msg"]),
                                      expected=Text("criteria.bad_key.expected")) for e in exc.errors()[:20]]) from None
    return _load_shipped(str(source))


@cache
def _load_shipped(set_id: str) -> CriteriaSet:
    if set_id not in _shipped():
        raise KeyError(f"unknown criteria set {set_id!r}; shipped sets: {available_sets()}")
    return _parse(_shipped()[set_id])


def _parse(text: str) -> CriteriaSet:
    return CriteriaSet.model_validate(shipped_yaml(text))


# ----- how the status of one set carries to the next ----------------------------------------


class CriterionLink(_Model):
    """How one criterion of the newer set is read from criteria of the older set.

    ``all_of``: met when every listed old criterion was met; ``unknown``: the planner
    fills it in (the listed old criteria only say what comes closest).
    """

    rule: Literal["all_of", "unknown"]
    old: tuple[str, ...] = ()
    note: str = ""


class CriteriaMapping(_Model):
    """A stated mapping of an older criteria set onto a newer one (``data/criteria/mappings``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_set: str = Field(alias="from")
    to_set: str = Field(alias="to")
    links: dict[str, CriterionLink]

    @model_validator(mode="after")
    def _check(self) -> CriteriaMapping:
        old, new = load_criteria_set(self.from_set), load_criteria_set(self.to_set)
        if set(self.links) != set(new.ids):
            raise ValueError(f"links must name every criterion of {self.to_set} once")
        for k, link in self.links.items():
            if unknown := set(link.old) - set(old.ids):
                raise ValueError(f"{k}: {sorted(unknown)} are not criteria of {self.from_set}")
            if link.rule == "all_of" and not link.old:
                raise ValueError(f"{k}: all_of needs old criteria")
        return self


@cache
def load_criteria_mapping(from_set: str, to_set: str) -> CriteriaMapping:
    """Load the shipped mapping from one criteria set to another.

    Raises
    ------
    KeyError
        If no mapping between the two sets is shipped.
    """
    folder = resources.files("ntm_sim") / "data" / "criteria" / "mappings"
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            raw = shipped_yaml(entry.read_text(encoding="utf-8"))
            if (raw["from"], raw["to"]) == (from_set, to_set):
                return CriteriaMapping.model_validate(raw)
    raise KeyError(f"no mapping from criteria set {from_set!r} to {to_set!r}")
