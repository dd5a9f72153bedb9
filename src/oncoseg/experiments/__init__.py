"""Experiments: the runner, the model store, the cohort cache and the demo."""
