"""Uncertainty settings (kept here for the engine; defined in :mod:`ntm_sim.uncertainty`)."""

from ntm_sim.uncertainty import Kind, Range, UncertaintySettings

__all__ = ["Kind", "Range", "UncertaintySettings"]
