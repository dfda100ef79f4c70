"""The province as data: the :class:`Dataset` record and its descriptive facts.

A :class:`Dataset` holds tidy pandas tables indexed by commune, district and source code.
It is built from tables by :func:`ntm_sim.data.dataset.make_dataset` (which normalises and
checks them), by the readers in :mod:`ntm_sim.data.io` and by
:func:`ntm_sim.data.registry.load_dataset`. This module knows only the record, so that the
checks (:mod:`ntm_sim.data.checks`) can name it and the builder can call them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import pandas as pd

from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.errors import Problem


@dataclass(frozen=True)
class DatasetMeta:
    """Descriptive facts about a dataset.

    Parameters
    ----------
    name
        Short machine name, e.g. ``"lao_cai"``.
    title
        Human title (Vietnamese).
    criteria_set
        Id of the criteria set the status refers to.
    demo
        True when status, costs or money are synthetic: every output then says so.
    demo_label
        The label shown wherever demo data is displayed.
    source
        Where the data came from (file name or "bundled").
    units
        The reference unit list its communes were matched against (empty: none).
    notes
        Free text.
    reviews_from
        The year the province began reviewing recognitions under the criteria set's
        revocation rule (None: from the year the set comes into force).
    """

    name: str
    title: str = ""
    criteria_set: str = "qd318-2021-2025"
    demo: bool = False
    demo_label: str = "DỮ LIỆU MINH HỌA – số liệu giả định, không phải số liệu chính thức (demo data)"
    source: str = ""
    units: str = ""
    notes: str = ""
    reviews_from: int | None = None


@dataclass(frozen=True)
class Dataset:
    """A province's communes, their criteria status and costs, and its money.

    Parameters
    ----------
    meta
        Name, criteria set id, demo flag, provenance.
    criteria
        The criteria set the status columns refer to.
    communes
        One row per commune, indexed by ``commune_code`` (str); columns as in
        ``COMMUNE_COLUMNS``.
    status
        Bool, communes × criterion ids: criterion met at the start of the period.
    cost
        Float, communes × criterion ids: million VND to meet an unmet criterion
        (NaN where met).
    cost_estimated
        Bool, same shape as ``cost``: True where the cost is a default estimate.
    districts
        One row per district-level unit, indexed by ``district_code``.
    sources
        Funding sources indexed by ``source_id`` with ``name_vi``, ``name_en``,
        ``eligible`` (the rule as written) and ``scope`` (empty for every commune, or
        the province or district codes the source may pay in).
    eligibility
        Bool, sources × criterion ids: may this source pay for this criterion.
    envelopes
        Float, sources × years: money available, million VND.
    warnings
        Problems found while reading that did not stop it (each with its place).
    """

    meta: DatasetMeta
    criteria: CriteriaSet
    communes: pd.DataFrame
    status: pd.DataFrame
    cost: pd.DataFrame
    cost_estimated: pd.DataFrame
    districts: pd.DataFrame
    sources: pd.DataFrame
    eligibility: pd.DataFrame
    envelopes: pd.DataFrame
    warnings: tuple[Problem, ...] = field(default=(), repr=False, compare=False)
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    # ----- derived views -------------------------------------------------------------
    @property
    def commune_codes(self) -> list[str]:
        """Commune codes in dataset order."""
        return list(self.communes.index)

    @property
    def years(self) -> list[int]:
        """Years that have funding envelopes."""
        return [int(y) for y in self.envelopes.columns]

    @property
    def criteria_met(self) -> pd.Series:
        """Number of criteria met per commune at the start."""
        return self.status.sum(axis=1).astype(int).rename("criteria_met")

    @property
    def is_ntm(self) -> pd.Series:
        """Whether each commune meets every criterion at the start."""
        return self.status.all(axis=1).rename("ntm")

    @property
    def recognised(self) -> pd.Series:
        """Whether each commune is legally recognised NTM at the start.

        Recognition is kept unless a re-check removes it, while criteria can slip: a
        recognised commune may miss criteria (of a newer set). With a ``recognised_year``
        column a commune is recognised where the year is given; without it, exactly when
        it meets every criterion at the start.
        """
        if "recognised_year" in self.communes.columns:
            return self.communes["recognised_year"].notna().rename("recognised")
        return self.is_ntm.rename("recognised")

    @property
    def held_by_rule(self) -> pd.Series:
        """Whether each recognised commune's status triggers the criteria set's revocation rule.

        A review in which the province carries the rule out would revoke it (Decision
        18/2022/QĐ-TTg for 2021–2025: too many criteria not met); False where the set has no rule.
        """
        rule = self.criteria.revocation
        if rule is None:
            return pd.Series(False, index=self.communes.index, name="held")
        with_key, alone = rule.unmet_limits(len(self.criteria))
        unmet = len(self.criteria) - self.criteria_met
        key = [k for k in self.criteria.ids if k in rule.commune.key_criteria]
        key_unmet = (~self.status[key]).any(axis=1) if key else pd.Series(False, index=self.communes.index)
        held = self.recognised & ((unmet >= alone) | ((unmet >= with_key) & key_unmet))
        return held.rename("held")

    @property
    def commune_group(self) -> pd.Series:
        """Commune group id (by criteria met) per commune."""
        return self.criteria_met.map(lambda n: self.criteria.group_of(int(n)).id).rename("group")

    @property
    def cost_to_complete(self) -> pd.Series:
        """Money (million VND) to meet every unmet criterion of each commune."""
        return self.cost.where(~self.status, 0.0).fillna(0.0).sum(axis=1).rename("cost_to_complete")

    @property
    def any_cost_estimated(self) -> bool:
        """Whether any cost needed for a plan is an estimate."""
        return bool((self.cost_estimated & ~self.status).to_numpy().any())

    def content_hash(self) -> str:
        """Return a SHA-256 over the dataset's content (not its file format)."""
        if "hash" not in self._cache:
            h = hashlib.sha256()
            h.update(self.criteria.id.encode())
            for name in ("communes", "status", "cost", "cost_estimated", "districts",
                         "sources", "eligibility", "envelopes"):
                frame: pd.DataFrame = getattr(self, name)
                h.update(name.encode())
                h.update(frame.to_csv(lineterminator="\n", float_format="%.6g").encode("utf-8"))
            self._cache["hash"] = h.hexdigest()
        return str(self._cache["hash"])

    def with_(self, **changes: object) -> Dataset:
        """Return a copy with some tables replaced (and caches reset)."""
        return replace(self, _cache={}, **changes)  # type: ignore[arg-type]

    def subset(self, commune_codes: list[str]) -> Dataset:
        """Return the dataset restricted to some communes (and their districts)."""
        codes = [str(c) for c in commune_codes]
        communes = self.communes.loc[codes]
        districts = self.districts.loc[
            [d for d in self.districts.index if d in set(communes["district_code"])]
        ]
        return self.with_(
            communes=communes,
            status=self.status.loc[codes],
            cost=self.cost.loc[codes],
            cost_estimated=self.cost_estimated.loc[codes],
            districts=districts,
        )
