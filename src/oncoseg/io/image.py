"""Read and write 3D images (NIfTI, NRRD, MHA) with their geometry.

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
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from oncoseg.io.atomic import atomic_path

NIFTI_ENDINGS = (".nii.gz", ".nii")


@dataclass(frozen=True)
class Image:
    """A 3D array with its voxel-to-world (RAS+, mm) affine."""

    array: np.ndarray
    affine: np.ndarray

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


class ImageReadError(ValueError):
    """An image file could not be read or is not what was expected."""


def load_image(path: str | os.PathLike[str]) -> Image:
    """Load a NIfTI image (other formats through SimpleITK) as an :class:`Image`."""
    p = Path(path)
    if not p.exists():
        raise ImageReadError(f"{p}: file not found")
    if p.name.endswith(NIFTI_ENDINGS):
        try:
            nii = nib.load(str(p))
            data = np.asarray(nii.dataobj)  # type: ignore[attr-defined]
            affine = np.asarray(nii.affine, dtype=np.float64)  # type: ignore[attr-defined]
        except Exception as exc:  # nibabel raises many types for corrupt files
            raise ImageReadError(f"{p}: not a readable NIfTI file ({exc})") from exc
        return Image(data, affine)
    return _load_with_sitk(p)


def _load_with_sitk(p: Path) -> Image:
    import SimpleITK as sitk

    try:
        itk = sitk.ReadImage(str(p))
    except RuntimeError as exc:
        raise ImageReadError(f"{p}: not a readable image ({exc})") from exc
    data = sitk.GetArrayFromImage(itk).transpose(2, 1, 0)  # ITK array is z,y,x
    direction = np.array(itk.GetDirection()).reshape(3, 3)
    lps_to_ras = np.diag([-1.0, -1.0, 1.0])
    affine = np.eye(4)
    affine[:3, :3] = lps_to_ras @ direction @ np.diag(itk.GetSpacing())
    affine[:3, 3] = lps_to_ras @ np.array(itk.GetOrigin())
    return Image(data, affine)


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
