"""Metrics, statistics, per-case evaluation, cohort summaries, figures and reports."""
