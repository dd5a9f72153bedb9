"""Serving: the FastAPI review service, its job queue and page, and the cohort runner."""
