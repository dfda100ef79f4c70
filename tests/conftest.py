from __future__ import annotations

import pytest

from ntm_sim.criteria import load_criteria_set
from ntm_sim.dataset import Dataset, load_dataset


@pytest.fixture(scope="session")
def criteria():
    return load_criteria_set()


@pytest.fixture(scope="session")
def lao_cai() -> Dataset:
    return load_dataset("lao_cai")
