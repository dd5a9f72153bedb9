"""Reading and writing images, labels and geometry."""

from oncoseg.io.hidden_import import import_hiding

# nibabel binds pydicom (and with it requests) when it is imported, for the NIfTI DICOM
# extension that oncoseg never reads: about 0.2 s of every cold predict. Every oncoseg.io
# module runs this first, so that is nibabel's first import (oncoseg.io.hidden_import).
import_hiding("nibabel", ("pydicom",))
