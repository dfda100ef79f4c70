"""ntm-sim: scenario planning for the NTM programme."""

__version__ = "0.1.0"
