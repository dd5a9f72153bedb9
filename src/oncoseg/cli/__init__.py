"""The ``oncoseg`` command line (typer): thin wrappers over the packages below it."""

from __future__ import annotations

from oncoseg.cli.app import app, main

__all__ = ["app", "main"]
