"""The run layer: a scenario solved, simulated and written (workflow, jobs, sweeps, result files).

Imports every layer below it: data, model, optimize, simulate, analysis and present.
"""
