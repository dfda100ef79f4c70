"""Money through a plan: what each project, upgrade and class of work costs a year; every source's ledger."""

from __future__ import annotations

import numpy as np

from ntm_sim.model.decisions import Decisions
from ntm_sim.model.instance import Instance


def _spread(out: np.ndarray, rows: np.ndarray, start: np.ndarray, lead: np.ndarray | int, amount: np.ndarray,
            first_year: int) -> None:
    """Add ``amount`` to ``out[row, t]`` for each horizon year of each start … start + lead - 1."""
    lead = np.broadcast_to(np.asarray(lead), rows.shape)
    n_t = out.shape[1]
    for k in range(int(lead.max()) if len(rows) else 0):
        t = start - first_year + k
        ok = (k < lead) & (t >= 0) & (t < n_t)
        np.add.at(out, (rows[ok], t[ok]), amount[ok])


def project_spend(inst: Instance, dec: Decisions) -> np.ndarray:
    """Money each criterion project spends in each horizon year (n_p × n_t)."""
    out = np.zeros((inst.n_projects, inst.n_years))
    funded = np.flatnonzero(dec.proj_start >= 0)
    lead = inst.proj_lead[funded]
    _spread(out, funded, dec.proj_start[funded], lead, inst.proj_cost[funded] / lead, int(inst.years[0]))
    return out


def upgrade_spend(inst: Instance, dec: Decisions, by_district: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Money for tier upgrades and villages per commune and year, and district money per year.

    With ``by_district`` the district money is per district and year (n_d × n_t).
    """
    n_c, n_t = inst.n_communes, inst.n_years
    y0 = int(inst.years[0])
    commune = np.zeros((n_c, n_t))
    for starts, cost, lead in ((dec.adv_start, inst.adv_cost, inst.adv_lead),
                               (dec.model_start, inst.model_cost, inst.model_lead)):
        cs = np.flatnonzero(starts >= 0)
        _spread(commune, cs, starts[cs], lead[cs], cost[cs] / lead[cs], y0)
    commune += dec.village_ntm * inst.village_ntm_cost[:, None]
    commune += dec.village_model * inst.village_model_cost[:, None]
    district = np.zeros((len(inst.districts), n_t))
    for starts, cost in ((dec.district_start, inst.district_cost),
                         (dec.district_adv_start, inst.district_adv_cost)):
        ds = np.flatnonzero(starts >= 0)
        np.add.at(district, (ds, starts[ds] - y0), cost[ds])
    return commune, (district if by_district else district.sum(axis=0))


def class_spend(inst: Instance, dec: Decisions) -> np.ndarray:
    """Money needed per eligibility class and year (n_class × n_t)."""
    out = np.zeros((len(inst.classes), inst.n_years))
    ps = project_spend(inst, dec)
    np.add.at(out, inst.proj_class, ps)
    commune, district = upgrade_spend(inst, dec, by_district=True)
    np.add.at(out, inst.commune_upgrade_class, commune)
    np.add.at(out, inst.district_upgrade_class, district)
    return out


def allocate_flows(inst: Instance, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pay each class's yearly need from its eligible sources, most restricted first.

    Parameters
    ----------
    need
        Money per class and year (n_class × n_t).

    Returns
    -------
    flows : ndarray
        (n_f × n_class × n_t) money by source, class and year.
    unpaid : ndarray
        (n_class × n_t) money that could not be paid.
    """
    n_f, n_g, n_t = len(inst.sources), len(inst.classes), inst.n_years
    flows = np.zeros((n_f, n_g, n_t))
    unpaid = np.zeros((n_g, n_t))
    ledger = BudgetLedger(inst)
    # classes with fewer eligible sources first, so flexible money is kept for them last
    for g in sorted(range(n_g), key=lambda g: len(inst.classes[g])):
        for t in range(n_t):
            paid = ledger.pay(g, t, need[g, t])
            flows[:, g, t] += paid
            unpaid[g, t] = need[g, t] - paid.sum()
    return flows, unpaid


class BudgetLedger:
    """Money left per source and year, with or without carry-over.

    With carry-over, spending ``x`` in year ``t`` is possible when the cumulative money
    left is at least ``x`` in year ``t`` and in every later year.
    """

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.spent = np.zeros_like(inst.budget)
        # sources sorted from the most to the least restricted
        width = np.zeros(len(inst.sources), dtype=int)
        for cls in inst.classes:
            width[list(cls)] += 1
        self.order = np.argsort(width, kind="stable")
        # each class's sources in that order: paying visits only these (national instances
        # have hundreds of scoped sources, of which a class may use a handful)
        rank = np.empty(len(self.order), dtype=int)
        rank[self.order] = np.arange(len(self.order))
        self.class_order = [np.array(sorted((int(f) for f in cls), key=lambda f: rank[f]), dtype=int)
                            for cls in inst.classes]
        self.cum_budget = np.cumsum(inst.budget, axis=1)
        # what each class can still pay per year, valid until the next payment (see can_pay)
        self._version = 0
        self._room: dict[tuple[int, int], float] = {}
        self._room_version = -1

    def available(self, f: int, t: int) -> float:
        """Money source ``f`` can still spend in year index ``t``."""
        b, s = self.inst.budget[f], self.spent[f]
        if not self.inst.carry_over:
            return max(0.0, b[t] - s[t])
        left = np.cumsum(b) - np.cumsum(s)
        return max(0.0, float(left[t:].min()))

    def class_available(self, g: int, t: int) -> float:
        """Money all sources eligible for class ``g`` can still spend in year ``t``."""
        return sum(self.available(f, t) for f in self.inst.classes[g])

    def class_room(self, g: int, t: int) -> float:
        """Most that class ``g`` can pay in year index ``t`` now (cached until the next payment)."""
        if self._room_version != self._version:
            self._room.clear()
            self._room_version = self._version
        key = (g, t)
        if key not in self._room:
            self._room[key] = float(self._source_room(self.class_order[g], t).sum())
        return self._room[key]

    def _source_room(self, fs: np.ndarray, t: int) -> np.ndarray:
        """What each of the sources ``fs`` can still spend in year index ``t`` (as :meth:`available`)."""
        if not len(fs):
            return np.zeros(0)
        if self.inst.carry_over:
            room = (self.cum_budget[fs] - np.cumsum(self.spent[fs], axis=1))[:, t:].min(axis=1)
        else:
            room = self.inst.budget[fs, t] - self.spent[fs, t]
        return np.maximum(room, 0.0)

    def can_pay(self, needs: list[tuple[int, int, float]]) -> bool:
        """Whether a set of (class, year, amount) needs can be paid together.

        ``spent`` must change only through :meth:`pay` (the quick test below caches what
        each class can still pay between payments).
        """
        # quick test first: a greedy plan asks far more often than it pays, mostly in vain
        asked: dict[tuple[int, int], float] = {}
        for g, t, amount in needs:
            asked[(g, t)] = asked.get((g, t), 0.0) + amount
        for (g, t), amount in asked.items():
            if self.class_room(g, t) < amount - 1e-6 - 1e-9 * abs(amount):
                return False
        trial = BudgetLedger.__new__(BudgetLedger)
        trial.inst, trial.order, trial.spent = self.inst, self.order, self.spent.copy()
        trial.class_order, trial.cum_budget = self.class_order, self.cum_budget
        trial._version, trial._room, trial._room_version = 0, {}, -1
        for g, t, amount in needs:
            paid = trial.pay(g, t, amount)
            if paid.sum() < amount - 1e-6:
                return False
        return True

    def pay(self, g: int, t: int, amount: float) -> np.ndarray:
        """Pay up to ``amount`` for class ``g`` in year ``t``; return the split by source."""
        paid = np.zeros(len(self.inst.sources))
        left = amount
        fs = self.class_order[g]
        if left <= 1e-9 or not len(fs):
            return paid
        # what each eligible source can still spend, for all of them at once (paying from
        # one source does not change what the others can spend)
        for f, avail in zip(fs.tolist(), self._source_room(fs, t).tolist(), strict=True):
            if left <= 1e-9:
                break
            take = min(left, avail)
            if take > 0:
                paid[f] = take
                self.spent[f, t] += take
                left -= take
                self._version += 1
        return paid
