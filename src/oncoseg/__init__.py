"""oncoseg: note-guided 3D segmentation of tumours and radiotherapy target volumes."""

from __future__ import annotations

__version__ = "0.1.0"
