"""Read and write 3D images (NIfTI, NRRD, MHA) with their geometry.

Every image read is checked by :mod:`oncoseg.io.image_rules` (3D, finite, positive spacing,
non-singular direction, size limits) before anyone sees its voxels.

An :class:`Image` is a numpy array indexed ``[i, j, k]`` plus a 4x4 affine that maps voxel
indices to RAS+ world coordinates in mm (the nibabel convention). Label maps keep integer
dtype; nothing here resamples.

Example:
    >>> import numpy as np, tempfile
    >>> from pathlib import Path
    >>> img = Image(np.zeros((4, 5, 6), np.int16), np.diag([2.0, 2.0, 3.0, 1.0]))
    >>> p = Path(tempfile.mkdtemp()) / "x.nii.gz"
    >>> save_image(img, p)
    >>> load_image(p).spacing
    (2.0, 2.0, 3.0)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.io.atomic import atomic_path
from oncoseg.io.image_rules import (
    ImageReadError,
    InvalidImageError,
    check_affine,
    check_finite,
    check_size,
    check_spacing,
    spatial_shape,
)
from oncoseg.io.nib import ImageOpener, nib

__all__ = [
    "NIFTI_ENDINGS",
    "Image",
    "ImageReadError",
    "InvalidImageError",
    "load_channels",
    "load_image",
    "same_geometry",
    "save_image",
]

NIFTI_ENDINGS = (".nii.gz", ".nii")


@dataclass(frozen=True)
class Image:
    """A 3D array with its voxel-to-world (RAS+, mm) affine, and the file it came from."""

    array: np.ndarray
    affine: np.ndarray
    source: str = field(default="", compare=False, repr=False)  # for messages; "" in memory

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.array.shape)

    @property
    def spacing(self) -> tuple[float, ...]:
        """Voxel size in mm along each array axis."""
        return tuple(float(s) for s in np.linalg.norm(self.affine[:3, :3], axis=0))

    @property
    def origin(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self.affine[:3, 3])


def load_image(path: str | os.PathLike[str]) -> Image:
    """Load a 3D image (NIfTI; NRRD/MHA via SimpleITK), checked by :mod:`oncoseg.io.image_rules`.

    Raises:
        ImageReadError: the file is missing or unreadable, or breaks a rule (the message
            names the file and what was expected); a file holding several channels is
            refused here (see :func:`load_channels`).
    """
    images = load_channels(path)
    if len(images) > 1:
        raise InvalidImageError(
            str(path),
            f"{len(images)} channels in one file, expected one file per channel here",
        )
    return images[0]


def load_channels(path: str | os.PathLike[str]) -> list[Image]:
    """The channels of an image file: one :class:`Image` each (one for a plain 3D file).

    Several only where the format marks an axis as channels (NIfTI intent ``vector``, an
    NRRD/MHA vector pixel type).
    """
    p = Path(path)
    if not p.exists():
        raise ImageReadError(f"{p}: file not found")
    if p.is_dir():
        raise ImageReadError(f"{p}: a folder, expected an image file")
    data, affine = _read_nifti(p) if p.name.endswith(NIFTI_ENDINGS) else _read_with_sitk(p)
    check_affine(affine, str(p))
    check_finite(data, str(p))
    if data.ndim == 3:
        return [Image(data, affine, str(p))]
    return [Image(data[..., c], affine, f"{p} (channel {c})") for c in range(data.shape[3])]


def _nifti_header(p: Path) -> Any:
    """The header as written in the file: nibabel's loader 'fixes' zero and negative voxel
    sizes (to 1 mm and to their absolute value) before anyone can see them."""
    with ImageOpener(str(p), "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        nifti2 = 540 in (int.from_bytes(head, "little"), int.from_bytes(head, "big"))
        klass = nib.Nifti2Header if nifti2 else nib.Nifti1Header
        header = klass.from_fileobj(fh, check=False)
    if header["magic"].item() not in (b"n+1", b"ni1", b"n+2", b"ni2"):
        raise ValueError("no NIfTI magic in the header")
    return header


def _read_nifti(p: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(array (X, Y, Z) or (X, Y, Z, C), affine)``, the header checked before the voxels."""
    try:
        header = _nifti_header(p)
        shape = tuple(int(s) for s in header.get_data_shape())
        vector = header.get_intent()[0] == "vector"
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise ImageReadError(f"{p}: not a readable NIfTI file ({exc})") from exc
    dims, channels = spatial_shape(shape, str(p), channel_axis=vector)
    check_size(dims, str(p))
    check_spacing(header["pixdim"][1:4], str(p), "header voxel size (pixdim)")
    try:
        nii = nib.load(str(p))
        data = np.asarray(nii.dataobj)  # type: ignore[attr-defined]
        affine = np.asarray(nii.affine, dtype=np.float64)  # type: ignore[attr-defined]
    except Exception as exc:  # truncated data, bad compression, ...
        raise ImageReadError(f"{p}: not a readable NIfTI file ({exc})") from exc
    return data.reshape(dims + ((channels,) if channels > 1 else ())), affine


def _read_with_sitk(p: Path) -> tuple[np.ndarray, np.ndarray]:
    import SimpleITK as sitk

    sitk.ProcessObject.SetGlobalWarningDisplay(False)  # ITK prints warnings to the terminal
    try:
        itk = sitk.ReadImage(str(p))
    except RuntimeError as exc:
        raise ImageReadError(f"{p}: not a readable image ({exc})") from exc
    comps = itk.GetNumberOfComponentsPerPixel()
    size = tuple(itk.GetSize()) + ((comps,) if comps > 1 else ())
    dims, _ = spatial_shape(size, str(p), channel_axis=comps > 1)
    check_size(dims, str(p))
    if itk.GetDimension() > 3:
        if itk.GetDimension() > 4:
            raise InvalidImageError(str(p), f"{itk.GetDimension()}D image, expected 3D")
        itk = itk[:, :, :, 0]  # a trailing axis of length 1 (checked above)
    check_spacing(itk.GetSpacing(), str(p), "header voxel size")
    data = sitk.GetArrayFromImage(itk)  # ITK array is z, y, x (, c)
    data = data.transpose(2, 1, 0, 3) if data.ndim == 4 else data.transpose(2, 1, 0)
    direction = np.array(itk.GetDirection()).reshape(3, 3)
    lps_to_ras = np.diag([-1.0, -1.0, 1.0])
    affine = np.eye(4)
    affine[:3, :3] = lps_to_ras @ direction @ np.diag(itk.GetSpacing())
    affine[:3, 3] = lps_to_ras @ np.array(itk.GetOrigin())
    return data, affine


def save_image(image: Image, path: str | os.PathLike[str]) -> None:
    """Write ``image`` as NIfTI atomically; the dtype of the array is kept."""
    p = Path(path)
    if not p.name.endswith(NIFTI_ENDINGS):
        raise ValueError(f"{p}: expected a file name ending in .nii.gz or .nii")
    nii = nib.Nifti1Image(image.array, image.affine)
    nii.set_qform(image.affine, code=1)
    nii.set_sform(image.affine, code=1)
    with atomic_path(p) as tmp:
        nib.save(nii, str(tmp))


def same_geometry(a: Image, b: Image, atol: float = 1e-3) -> bool:
    """True when two images share shape and affine (within ``atol`` mm)."""
    return a.shape[:3] == b.shape[:3] and bool(np.allclose(a.affine, b.affine, atol=atol))
