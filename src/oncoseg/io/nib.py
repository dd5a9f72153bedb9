"""nibabel, imported without pydicom: ``from oncoseg.io.nib import nib, nio, ImageOpener``.

nibabel binds pydicom (and with it requests) when it is first imported, for the NIfTI DICOM
extension that oncoseg never reads: about 0.2 s of every cold predict. The modules that use
nibabel import it from here, so that import is the first (:mod:`oncoseg.hidden_import`).
"""

from __future__ import annotations

from oncoseg.hidden_import import import_hiding

import_hiding("nibabel", ("pydicom",))

import nibabel as nib  # noqa: E402
import nibabel.orientations as nio  # noqa: E402
from nibabel.openers import ImageOpener  # noqa: E402

__all__ = ["ImageOpener", "nib", "nio"]
