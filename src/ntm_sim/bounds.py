"""Upper bounds on the numbers a user gives: finite is not enough.

``budget.scale: 1e308``, a cost of 1e308 or ``--budget-scale 1e308`` are finite numbers,
yet they overflow the sums of a plan (money by year, the solver's bounds, the
simulation's spending) into infinities that fail far from where they were typed. Each
bound below is far above any real value, so it only catches typos, and it is checked
where the number comes in (the scenario, a table of the data, an option), naming the
place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ntm_sim.errors import InputError, Problem, Text

#: Largest multiplier of a scenario's money (``budget.scale``, a source's or a year's scale, a
#: level of ``--budget-scale``, and their products): a hundred times a scenario's money is
#: beyond any budget round (the dashboard goes to 150%, the budget curve to 200%).
MAX_SCALE = 100.0

#: Largest amount in one cell of money, million VND (a criterion's cost in a commune, a source's
#: money in a year, an upgrade's cost), and largest number in a table of the data: 10⁹ million
#: VND is 10¹⁵ VND, about a tenth of Vietnam's yearly GDP and five times the whole national
#: programme 2021–2025 (about 196,000 billion VND).
MAX_MONEY_MVND = 1e9

#: Most levels of a budget curve (``ntm-sim frontier``) and of budget multipliers of a sweep: each
#: is a search for the recommended plan (minutes on Lào Cai); the default curve has 6.
MAX_LEVELS = 12

#: Most runs of one sweep (scenarios × budget multipliers).
MAX_SWEEP_RUNS = 100

#: Largest seed. The recommended-plan search draws its success chances and training draws from
#: streams of their own, at the seed plus 1,000,003 and plus 2,000,003
#: (:data:`ntm_sim.analysis.recommend.WEIGHT_SEED`, ``TRAIN_SEED``): below this, no seed's fresh
#: draws are another seed's training draws, and the streams of every accepted seed stay those of today.
MAX_SEED = 999_999

#: Fewest fresh draws a recommended plan is judged on (a scenario's ``robustness.test_draws``): fewer
#: cannot tell the candidates apart; ``--draws 0`` still asks for the plan on paper only.
MIN_JUDGE_DRAWS = 100

#: Most simulation draws one run may ask for (the command line, the page and a scenario's ``test_draws``).
MAX_DRAWS = 100_000


def parse_levels(text: str, option: str, *, base: float = 1.0, positive: bool = True) -> tuple[float, ...]:
    """Budget levels typed as ``0.6,0.8,1.0``, read and checked as :func:`check_levels` (one rule for every command).

    Raises
    ------
    InputError
        If a level is not a number, or as :func:`check_levels`.
    """
    try:
        levels = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        levels = ()  # refused below with what was typed
    return check_levels(levels, option, text, base=base, positive=positive)


def check_levels(levels: Iterable[float], option: str, text: str, *, base: float = 1.0,
                 positive: bool = True) -> tuple[float, ...]:
    """Budget levels within bounds: finite, > 0 (or ≥ 0), at most :data:`MAX_LEVELS`, ``base × level ≤ MAX_SCALE``.

    Parameters
    ----------
    levels
        The multipliers.
    option
        How the user gave them (``--budget-scale``), for the message.
    text
        What the user typed.
    base
        The scenario's own ``budget.scale``, which each level multiplies.
    positive
        Whether 0 is refused (a budget curve) or allowed (a sweep's "no money" level).

    Raises
    ------
    InputError
        Naming the option, what was expected and what was typed.
    """
    levels = tuple(float(x) for x in levels)
    low_ok = (lambda x: x > 0) if positive else (lambda x: x >= 0)
    if not levels or any(not math.isfinite(x) or not low_ok(x) for x in levels):
        key = "cli.budget_levels" if positive else "cli.budget_scale"
        raise InputError([Problem(option, Text(key), expected=Text(f"{key}.expected"), found=text)])
    if len(levels) > MAX_LEVELS:
        raise InputError([Problem(option, Text("bounds.levels", n=len(levels)),
                                  expected=Text("bounds.levels.expected", most=MAX_LEVELS), found=text)])
    top = max(levels) * base
    if top > MAX_SCALE:
        raise InputError([Problem(option, Text("bounds.scale", top=top, base=base),
                                  expected=Text("bounds.scale.expected", most=MAX_SCALE), found=text)])
    return levels
