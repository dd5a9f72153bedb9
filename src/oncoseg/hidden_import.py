"""Import a library without the optional dependencies it would bind at import time.

Some libraries import an optional dependency eagerly when they are imported, for a feature
oncoseg never uses, and that costs a cold ``oncoseg predict`` its time on 2 CPU cores:
``monai`` binds ``transformers``, ``matplotlib``, ``pandas``, ``scipy.signal`` and ``pydicom``
(:mod:`oncoseg.models.monai_import`); ``nibabel`` binds ``pydicom`` (and
through it ``requests``) for the NIfTI DICOM header extension (:mod:`oncoseg.io.nib`).
While the library imports here, each hidden name that is not imported yet reads as missing
(``sys.modules[name] = None``), so the library keeps its own placeholder for the feature;
afterwards the name imports normally for the code that needs it. A name already imported is
left as it is. The hiding holds for the whole process while the library imports: call it
at start-up, before other threads import the hidden names.

Example:
    >>> import sys
    >>> import_hiding("json", ("not_a_real_module",))
    >>> "json" in sys.modules and "not_a_real_module" not in sys.modules
    True
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Sequence

_lock = threading.Lock()


def import_hiding(name: str, hidden: Sequence[str]) -> None:
    """Import module ``name`` (once per process) with ``hidden`` read as missing meanwhile."""
    if name in sys.modules:
        return
    with _lock:
        if name in sys.modules:
            return
        masked = [h for h in hidden if h not in sys.modules]
        try:
            for h in masked:
                sys.modules[h] = None  # type: ignore[assignment]  # "import h" raises ImportError
            importlib.import_module(name)
        finally:
            for h in masked:
                if sys.modules.get(h, 0) is None:
                    del sys.modules[h]
