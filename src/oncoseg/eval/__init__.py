"""Metrics, statistics, experiments, figures and reports."""
