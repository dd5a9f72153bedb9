"""Import MONAI without the optional libraries it loads for parts oncoseg never uses.

``import monai`` imports every MONAI submodule, and each binds its optional dependencies at
import time (``monai.utils.optional_import``): ``monai.networks.nets.transchex`` loads
``transformers``' BERT, ``monai.utils.jupyter_utils`` ``matplotlib.pyplot``, the profiling
and CSV helpers ``pandas``, the connected-component, morphology and histogram transforms
``skimage``, the ultrasound and signal transforms ``scipy.signal`` and the DICOM
image reader ``pydicom`` (``requests``, for its TCIA downloads, is not hidden: older
``huggingface_hub`` releases, which MONAI also imports, need it at import). On 2 CPU cores that
was about half of a cold ``oncoseg predict``'s imports, for a note-guided model whose note
states are cached and needs no language model at all. While MONAI imports here, those
libraries (when not imported yet) read as missing (:mod:`oncoseg.hidden_import`): MONAI
keeps a placeholder that raises if the feature is used (Transchex, MONAI's own plots, CSV
tables, connected components and hole filling, histogram equalisation, ultrasound confidence
maps and notch filters, its PydicomReader;
none is used by oncoseg), and the libraries import normally afterwards for the code that
does need them (oncoseg's own DICOM modules import pydicom themselves).

``oncoseg.models`` calls :func:`import_monai` when it is imported, before any model module's
``from monai ...`` (the first import of ``monai`` in a process is the one that counts).
"""

from __future__ import annotations

from oncoseg.hidden_import import import_hiding

# optional MONAI dependencies that only MONAI features oncoseg never uses bind at import
SKIPPED = ("transformers", "matplotlib", "pandas", "scipy.signal", "pydicom", "skimage")


def import_monai() -> None:
    """Import ``monai`` (once) with :data:`SKIPPED` read as missing while it imports."""
    import_hiding("monai", SKIPPED)
