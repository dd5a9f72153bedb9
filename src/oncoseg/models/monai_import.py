"""Import MONAI without the optional libraries it loads for parts oncoseg never uses.

``import monai`` imports every MONAI submodule, and each binds its optional dependencies at
import time (``monai.utils.optional_import``): ``monai.networks.nets.transchex`` loads
``transformers``' BERT, ``monai.utils.jupyter_utils`` ``matplotlib.pyplot``, the profiling
and CSV helpers ``pandas``, the ultrasound and signal transforms ``scipy.signal``. On 2 CPU
cores that was about half of a cold ``oncoseg predict``'s imports, for a note-guided model
whose note states are cached and needs no language model at all. While MONAI imports here,
those libraries (when not imported yet) read as missing: MONAI keeps a placeholder that
raises if the feature is used (Transchex, MONAI's own plots, CSV tables, ultrasound
confidence maps and notch filters; none is used by oncoseg), and the libraries import
normally afterwards for the code that does need them.

``oncoseg.models`` calls :func:`import_monai` when it is imported, before any model module's
``from monai ...`` (the first import of ``monai`` in a process is the one that counts).
"""

from __future__ import annotations

import importlib
import sys
import threading

# optional MONAI dependencies that only MONAI features oncoseg never uses bind at import
SKIPPED = ("transformers", "matplotlib", "pandas", "scipy.signal")
_lock = threading.Lock()


def import_monai() -> None:
    """Import ``monai`` (once) with :data:`SKIPPED` read as missing while it imports."""
    if "monai" in sys.modules:
        return
    with _lock:
        if "monai" in sys.modules:
            return
        hidden = [name for name in SKIPPED if name not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # "import name" fails
        try:
            importlib.import_module("monai")
        finally:
            for name in hidden:
                if sys.modules.get(name, 0) is None:
                    del sys.modules[name]
