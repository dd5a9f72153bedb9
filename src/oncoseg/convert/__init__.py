"""Converters from clinical exports to the oncoseg dataset format (DESIGN §2).

- :mod:`oncoseg.convert.dicom_cohort`: a folder of DICOM patients (CT/MR series +
  RTSTRUCT) -> dataset, ROI names matched to labels by :mod:`oncoseg.convert.roi_match`.

Task-specific converters (OpenKBP's CSVs) live with their task in :mod:`oncoseg.tasks`.
"""

from __future__ import annotations
