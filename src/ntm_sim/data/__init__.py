"""The data layer: datasets, administrative units, criteria sets, costs, readers and writers.

Imports only the foundation (:mod:`ntm_sim.errors`, :mod:`ntm_sim.messages`, :mod:`ntm_sim.text`,
:mod:`ntm_sim.bounds`, :mod:`ntm_sim.storage`). The folder also holds the bundled data files.
"""
