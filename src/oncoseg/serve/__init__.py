"""The review service (``oncoseg serve``): FastAPI app, job queue, case store, review page.

``serve.app.create_app`` builds the API around one loaded model, ``serve.server`` runs it
with uvicorn. Like the CLI, this package holds no ML logic: every segmentation is
:meth:`oncoseg.infer.Predictor.predict`. It imports infer, io, text and eval, never train,
tasks or experiments (import-linter contract in pyproject.toml).
"""
