"""Uncertainty settings (kept here for the engine; defined in :mod:`ntm_sim.model.uncertainty`)."""

from ntm_sim.model.uncertainty import Kind, Range, UncertaintySettings

__all__ = ["Kind", "Range", "UncertaintySettings"]
