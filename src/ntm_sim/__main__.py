"""Run ``python -m ntm_sim``."""

from ntm_sim.cli import main

main()
