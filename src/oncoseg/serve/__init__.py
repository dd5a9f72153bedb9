"""The review service (``oncoseg serve``): FastAPI app, job queue, case store, review page.

No ML here: every job goes through the one prediction pipeline,
:func:`oncoseg.infer.pipeline.run_prediction`. It imports infer, io, text and data, never
train, tasks or experiments (import-linter contract in pyproject.toml).
"""
