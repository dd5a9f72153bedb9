"""Services on top of the Predictor: the PACS (Orthanc) bridge (:mod:`oncoseg.serve.orthanc`).

No ML logic lives here: every segmentation goes through :class:`oncoseg.infer.Predictor`.
"""

from __future__ import annotations
