"""The model layer: scenarios, the instance built from a scenario and its data, plans and targets.

Imports the data layer and the foundation.
"""
