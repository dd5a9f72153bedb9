"""Cohort prediction (``oncoseg predict-cohort``): a dataset's cases through one model,
resumably, with local worker processes or Ray actors; ``status.csv`` and ``metrics.csv``.

No ML here: every case goes through :func:`oncoseg.infer.pipeline.run_prediction`.
"""
