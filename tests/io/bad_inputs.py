"""Bad inputs a hospital really sends by mistake, written over a good file in place.

Each breaker takes the path of a good image (or note) and turns it into one bad category;
``IMAGE_BREAKERS`` / ``NOTE_BREAKERS`` map a category to ``(breaker, words the refusal
must contain)``. Shared by the unit tests of ``oncoseg.io`` and the CLI tests.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np

from oncoseg.io.image import Image, save_image


def _load(p: Path) -> tuple[np.ndarray, np.ndarray]:
    nii = nib.load(str(p))
    return np.asarray(nii.dataobj).astype(np.float32), nii.affine.copy()  # type: ignore[attr-defined]


def _with_value(value: float) -> Callable[[Path], None]:
    def breaker(p: Path) -> None:
        arr, affine = _load(p)
        arr[1, 2, 3] = value
        arr[3, 2, 1] = value
        save_image(Image(arr, affine), p)

    return breaker


def _pixdim(axis: int, value: float) -> Callable[[Path], None]:
    """Header voxel size ``pixdim[axis]`` set to ``value`` in the file's bytes, qform only
    (the sform off): what nibabel 'fixes' to 1 mm or to the absolute value on loading."""

    def breaker(p: Path) -> None:
        arr, affine = _load(p)
        nii = nib.Nifti1Image(arr, affine)
        nii.set_qform(affine, code=1)
        nii.set_sform(affine, code=0)
        nib.save(nii, str(p))
        raw = bytearray(gzip.decompress(p.read_bytes()))
        raw[76 + 4 * axis : 80 + 4 * axis] = struct.pack("<f", value)
        p.write_bytes(gzip.compress(bytes(raw)))

    return breaker


def _singular(p: Path) -> None:
    arr, affine = _load(p)
    affine[:3, 1] = affine[:3, 0]  # the second axis points along the first
    nib.save(nib.Nifti1Image(arr, affine), str(p))


def _two_d(p: Path) -> None:
    arr, affine = _load(p)
    nib.save(nib.Nifti1Image(arr[:, :, arr.shape[2] // 2], affine), str(p))


def _four_d(p: Path) -> None:
    arr, affine = _load(p)
    nib.save(nib.Nifti1Image(np.stack([arr, arr, arr], axis=-1), affine), str(p))


def _truncated(p: Path) -> None:
    p.write_bytes(p.read_bytes()[:400])  # a copy cut short


def _missing(p: Path) -> None:
    p.unlink()


IMAGE_BREAKERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "nan": (_with_value(float("nan")), "2 NaN"),
    "inf": (_with_value(float("inf")), "2 infinite"),
    "zero_spacing": (_pixdim(3, 0.0), "(pixdim)"),
    "negative_spacing": (_pixdim(2, -2.5), "-2.5"),
    "singular_direction": (_singular, "singular"),
    "2d": (_two_d, "2D image"),
    "4d": (_four_d, "4D image"),
    "missing": (_missing, "not found"),
    "corrupt": (_truncated, "not a readable NIfTI"),
}


def _write(data: bytes) -> Callable[[Path], None]:
    def breaker(p: Path) -> None:
        p.write_bytes(data)

    return breaker


NOTE_BREAKERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "empty": (_write(b""), "empty note"),
    "whitespace": (_write(b"  \n\t \r\n  "), "empty note"),
    "binary": (_write(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01"), "binary"),
    "not_utf8": (_write("Linke Brust, Lymphknoten".encode("latin-1") + b" \xe4\xfc"), "not UTF-8"),
    "missing": (_missing, "not found"),
}
