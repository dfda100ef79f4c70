"""The counting half of the engine: what a block's progress means at the horizon.

:class:`Outcomes` turns the items each draw finished (and when) into the outcomes of
:class:`~ntm_sim.simulate.blocks.BlockOutcomes`: communes meeting every criterion and
recognised (the revocation rule of the set in force), tiers, district units, villages,
criteria per commune and the money spent. :class:`~ntm_sim.simulate.engine.Engine`
inherits it; it reads the engine's instance, items and settings.
"""

from __future__ import annotations

import math

import numpy as np

from ntm_sim.simulate import kernels
from ntm_sim.simulate.blocks import NEVER, BlockOutcomes, ItemProgress, SourceMoney


class Outcomes:
    """The engine's outcome counting (a base of :class:`~ntm_sim.simulate.engine.Engine`)."""

    # ----- outcomes ----------------------------------------------------------------------------------
    def _outcomes(self, mask: np.ndarray, progress: ItemProgress, money: SourceMoney,
                  revoke: np.ndarray) -> BlockOutcomes:
        """Per-draw outcomes from the criteria's year masks, the items' progress and the reviews."""
        inst, it = self.inst, self.items
        n_b, n_t = mask.shape[0], inst.n_years
        last = n_t - 1
        rec = inst.recognition
        n_k = len(inst.criteria)
        # before the set is in force the recognised communes count every criterion (they met the old set)
        assessed = (1 << rec.assessed_from) - 1 if rec is not None and rec.assessed_from > 0 else 0
        review_from, alone, with_key, key = ((rec.review_from, rec.unmet_alone, rec.unmet_with_key, rec.key)
                                             if rec is not None else (n_t, n_k + 1, n_k + 1, np.zeros(n_k, bool)))
        ntm_by_t, criteria_by_t, recognised, ever_revoked, criterion_communes = kernels.criteria_outcomes(
            mask, inst.recognised, assessed, review_from, alone, with_key, np.asarray(key, dtype=bool), revoke,
            np.float32(self.settings.revocation_probability))
        ntm_end = ntm_by_t[:, :, last]
        criteria_end = criteria_by_t[:, :, last]
        advanced_t, model_t = self._tiers(progress, ntm_by_t, recognised)
        advanced, model = advanced_t[:, :, last], model_t[:, :, last]
        done_by_end = progress.done_year < NEVER
        units, units_adv = self._district_units(done_by_end, ntm_end, advanced, model, ever_revoked)
        village = {}
        for code in (3, 4):  # new NTM villages, new model villages
            idx = np.flatnonzero(it.kind == code)
            village[code] = done_by_end[:, idx] @ it.quantity[idx]
        floor = inst.targets.min_criteria
        n_adv = advanced_t.sum(axis=1)
        adv_criteria = (criteria_by_t * advanced_t).sum(axis=1)
        counted = recognised if inst.targets.communes_count == "recognised" else ntm_by_t
        return BlockOutcomes(
            ntm_by_year=counted.sum(axis=1),
            advanced=advanced.sum(axis=1),
            model=model.sum(axis=1),
            district_units=units,
            district_advanced=units_adv,
            villages_ntm=village[3],
            villages_model=village[4],
            avg_criteria=criteria_end.mean(axis=1),
            min_criteria=criteria_end.min(axis=1),
            below_floor=(criteria_end < floor).sum(axis=1) if floor is not None else np.zeros(n_b, dtype=int),
            criterion_communes=criterion_communes,
            spent=money.spent,
            unspent=inst.budget.sum() - money.spent,
            **self._project_counts(progress),
            recovery=money.recovery,
            recognised_by_year=recognised.sum(axis=1),
            meeting_by_year=ntm_by_t.sum(axis=1),
            commune_ntm_count=counted.sum(axis=0),
            criteria_by_year=criteria_by_t.mean(axis=1),
            advanced_by_year=n_adv,
            advanced_criteria=adv_criteria,
            start_recognised=self._start_recognised(criteria_by_t, recognised, advanced_t),
        )

    def _start_recognised(self, criteria_by_t: np.ndarray, recognised: np.ndarray,
                          advanced: np.ndarray) -> np.ndarray:
        """Communes recognised (and advanced) at the start and still so, by year (B × T × 7 ints).

        See :class:`BlockOutcomes` for the seven columns.
        """
        inst = self.inst
        n_k = len(inst.criteria)
        rec = inst.recognition
        with_key, alone = ((rec.unmet_with_key, rec.unmet_alone) if rec is not None
                           else (math.ceil(0.3 * n_k - 1e-9), math.ceil(0.5 * n_k - 1e-9)))
        keep = recognised[:, inst.recognised, :]                       # (B, R, T)
        crit = criteria_by_t[:, inst.recognised, :]
        unmet = n_k - crit
        adv = advanced[:, inst.base_adv, :]
        return np.stack([keep.sum(axis=1), (crit * keep).sum(axis=1), (keep & (unmet == 0)).sum(axis=1),
                         (keep & (unmet < with_key)).sum(axis=1), (keep & (unmet < alone)).sum(axis=1),
                         adv.sum(axis=1), (criteria_by_t[:, inst.base_adv, :] * adv).sum(axis=1)],
                        axis=2).astype(np.int32)

    def _project_counts(self, progress: ItemProgress) -> dict[str, np.ndarray]:
        """Per draw: planned projects that slipped or did not finish, and reserve projects finished."""
        it = self.items
        planned_start = (it.start - int(self.inst.years[0]))[None, :]
        start_year, done_year = progress.start_year, progress.done_year
        return {
            "slipped_projects": (self.core & ((start_year > planned_start) | (start_year == NEVER))).sum(axis=1),
            "unfinished_projects": (self.core & (done_year == NEVER)).sum(axis=1),
            "reserve_funded": (~self.core & (done_year < NEVER)).sum(axis=1),
        }

    def _tiers(self, progress: ItemProgress, ntm_by_t: np.ndarray,
               recognised: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advanced and top-tier communes by year (B × C × T, bool).

        Only the tiers the criteria set issues. A tier recognised at the start is kept with
        the commune's recognition; a new one counts from the year its upgrade is done while
        the commune meets every criterion and has the tier it requires (the top tier: the
        advanced one, or NTM under a set without an advanced tier, Decision 51).
        """
        inst, it = self.inst, self.items
        n_b, n_c, n_t = ntm_by_t.shape
        years = np.arange(n_t, dtype=np.int16)
        new = {}
        for code in (1, 2):
            idx = np.flatnonzero(it.kind == code)
            done = np.zeros((n_b, n_c, n_t), dtype=bool)
            done[:, it.commune[idx], :] = progress.done_year[:, idx, None] <= years[None, None, :]
            new[code] = done
        advanced = ((inst.base_adv[None, :, None] & recognised) | (ntm_by_t & new[1])) & inst.has_advanced_tier
        required = advanced if inst.has_advanced_tier else ntm_by_t
        model = ((inst.base_model[None, :, None] & recognised) | (required & new[2])) & inst.has_model_tier
        return advanced, model

    def _district_units(self, done_by_end: np.ndarray, ntm_end: np.ndarray, advanced: np.ndarray,
                        model: np.ndarray, ever_revoked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """District-level units and advanced districts at the horizon (B × n_districts, bool).

        A recognised unit is kept until the district rule triggers (``district_limit`` of
        its communes revoked); a new one needs every commune meeting every criterion,
        enough advanced communes and its district criteria.
        """
        inst, it = self.inst, self.items
        n_b, n_d = done_by_end.shape[0], len(inst.districts)
        d_crit = np.repeat(inst.district_recognised[None, :], n_b, axis=0)
        d_adv_done = np.zeros((n_b, n_d), dtype=bool)
        for code, target in ((5, d_crit), (6, d_adv_done)):
            idx = np.flatnonzero(it.kind == code)
            target[:, it.district[idx]] |= done_by_end[:, idx]
        units = np.zeros((n_b, n_d), dtype=bool)
        units_adv = np.zeros((n_b, n_d), dtype=bool)
        for d, members in enumerate(inst.district_members):
            if len(members) == 0 or not inst.has_district_units:
                continue  # the criteria set recognises no district unit (Decision 51)
            n_adv = advanced[:, members].sum(axis=1)
            kept = np.zeros(n_b, dtype=bool)
            if inst.district_recognised[d]:
                limit = inst.recognition.district_limit[d] if inst.recognition is not None else len(members) + 1
                kept = ever_revoked[:, members].sum(axis=1) < limit
            units[:, d] = kept | (ntm_end[:, members].all(axis=1) & (n_adv >= inst.district_need_adv[d]) & d_crit[:, d])
            units_adv[:, d] = (units[:, d] & inst.has_advanced_districts & (n_adv >= inst.district_need_adv2[d])
                               & (model[:, members].sum(axis=1) >= inst.district_need_model2[d]) & d_adv_done[:, d])
        return units, units_adv
