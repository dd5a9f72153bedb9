"""Generic phantom tools: the cohort writer and geometric/scanner primitives.

The generators themselves are task plug-ins (``oncoseg.tasks.<task>.phantom``).
"""
