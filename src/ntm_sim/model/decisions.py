"""A plan in index form: which projects start when, with how much of each source's money.

Every planner (the optimizer, a baseline rule, a plan read back from a results folder)
returns :class:`Decisions`; :mod:`ntm_sim.model.ledger` prices them and
:mod:`ntm_sim.model.plan` evaluates, checks and tabulates them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntm_sim.model.instance import Instance


@dataclass
class Decisions:
    """A plan in index form.

    Parameters
    ----------
    proj_start
        Start year of each criterion project, -1 if not funded.
    adv_start, model_start
        Start year of each commune's advanced / model upgrade, -1 if none.
    village_ntm, village_model
        New NTM / model villages funded per commune and year (n_c × n_t).
    district_start, district_adv_start
        Start year of each district's criteria project / advanced-district project.
    flows
        Money by source, eligibility class and year (n_f × n_class × n_t); None means
        "not allocated yet" (see :func:`allocate_flows`).
    priority
        Rank of each criterion project in the plan's own order (how the plan explains its
        priorities; a simulation carries out every plan by the same rule, see
        :mod:`ntm_sim.simulate.engine`).
    reserve
        Criterion projects on the plan's reserve list (not scheduled; funded in a
        simulation only with money the scheduled projects do not need); None: no list.
    """

    proj_start: np.ndarray
    adv_start: np.ndarray
    model_start: np.ndarray
    village_ntm: np.ndarray
    village_model: np.ndarray
    district_start: np.ndarray
    district_adv_start: np.ndarray
    flows: np.ndarray | None = None
    priority: np.ndarray | None = None
    reserve: np.ndarray | None = None

    @classmethod
    def empty(cls, inst: Instance) -> Decisions:
        """A plan that funds nothing (projects already under way stay funded)."""
        n_c, n_t, n_d = inst.n_communes, inst.n_years, len(inst.districts)
        return cls(
            proj_start=inst.proj_committed_start.copy(),
            adv_start=np.full(n_c, -1),
            model_start=np.full(n_c, -1),
            village_ntm=np.zeros((n_c, n_t), dtype=int),
            village_model=np.zeros((n_c, n_t), dtype=int),
            district_start=np.full(n_d, -1),
            district_adv_start=np.full(n_d, -1),
        )

    def copy(self) -> Decisions:
        """Deep copy."""
        return Decisions(**{k: None if v is None else np.array(v, copy=True)
                            for k, v in self.__dict__.items()})
