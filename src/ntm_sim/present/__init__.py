"""The presentation layer: explanations, charts, the report (HTML and Markdown).

Imports data, model, optimize, simulate and analysis; never the run layer (it renders what it is given).
"""
