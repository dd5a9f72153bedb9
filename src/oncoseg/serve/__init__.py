"""Serving: the review service (``oncoseg serve``: FastAPI app, job queue, case store,
review page), the PACS bridge and the cohort runner (``oncoseg predict-cohort``).

Like the CLI, this package holds no ML logic: every segmentation is
:meth:`oncoseg.infer.Predictor.predict`. It imports infer, io, text, data and eval, never
train, tasks or experiments (import-linter contract in pyproject.toml).
"""
