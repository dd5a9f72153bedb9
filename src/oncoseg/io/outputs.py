"""Inputs and outputs of one prediction: NIfTI/NRRD file or DICOM folder in; NIfTI, DICOM-SEG
and RTSTRUCT out, all on the input's grid.

The CLI and the service call these so both accept the same inputs and write the same files.
DICOM outputs need a DICOM input: they reference its series and copy its patient/study
identity (never logged).

Example:
    >>> parse_formats("nifti, rtstruct")
    ('nifti', 'rtstruct')
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from oncoseg.io.image import Image, load_channels, load_image, save_image
from oncoseg.io.image_rules import check_image

if TYPE_CHECKING:  # pydicom/highdicom are imported only when DICOM is used
    from oncoseg.io.dicom_series import DicomSeries

FORMATS = ("nifti", "dicom-seg", "rtstruct")
DICOM_FORMATS = frozenset({"dicom-seg", "rtstruct"})


def parse_formats(text: str) -> tuple[str, ...]:
    """``"nifti,dicom-seg"`` -> ``("nifti", "dicom-seg")``; unknown names raise ``ValueError``."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise ValueError(f"--format {text!r}: expected a comma list of {', '.join(FORMATS)}")
    return names


def check_formats(formats: Sequence[str], series: DicomSeries | None) -> None:
    """Raise ``ValueError`` when DICOM outputs are asked for without a DICOM input."""
    if DICOM_FORMATS.intersection(formats) and series is None:
        raise ValueError("--format dicom-seg/rtstruct needs a DICOM series folder as input (-i)")


def load_input(
    path: str | os.PathLike[str], series_uid: str | None = None
) -> tuple[Image, DicomSeries | None]:
    """The image at ``path`` and, for a DICOM folder, its :class:`DicomSeries` (else ``None``).

    Every image passes :mod:`oncoseg.io.image_rules` (a refusal names ``path``).
    """
    p = Path(path)
    if p.is_dir():
        from oncoseg.io.dicom_series import read_dicom_series

        series = read_dicom_series(p, series_uid)
        img = series.image
        check_image(img.array, img.affine, str(p))
        return Image(img.array, img.affine, str(p)), series
    if series_uid is not None:
        raise ValueError(f"{p}: --series applies to a DICOM folder, not to a file")
    return load_image(p), None


def load_inputs(
    paths: Sequence[str | os.PathLike[str]], series_uid: str | None = None
) -> list[tuple[Image, DicomSeries | None]]:
    """The channels of a case, in order: each path is one channel, or several where its
    format marks a channel axis (:func:`oncoseg.io.image.load_channels`)."""
    out: list[tuple[Image, DicomSeries | None]] = []
    for path in paths:
        if Path(path).is_dir() or series_uid is not None:
            out.append(load_input(path, series_uid))
        else:
            out.extend((img, None) for img in load_channels(path))
    return out


def output_name(path: str | os.PathLike[str]) -> str:
    """Case name from an input path: ``case_0000.nii.gz`` -> ``case``; a folder keeps its name."""
    p = Path(path)
    return p.name.replace("_0000", "").split(".")[0] if p.is_file() else p.name


def write_outputs(
    mask: Image,
    out: str | os.PathLike[str],
    name: str,
    formats: Sequence[str],
    series: DicomSeries | None = None,
    labels: Mapping[str, int] | None = None,
    run_name: str = "",
) -> list[Path]:
    """Write ``mask`` in each format to ``out/``; returns the paths in ``formats`` order.

    Args:
        mask: label map on the input's grid.
        out: output folder.
        name: case name (file stem).
        formats: names from :data:`FORMATS`.
        series: the input :class:`DicomSeries` (required for DICOM formats).
        labels: label name -> value (background 0 is left out of DICOM objects).
        run_name: training run recorded in the DICOM objects.
    """
    check_formats(formats, series)
    fg = {k: int(v) for k, v in (labels or {}).items() if int(v) != 0} or None
    folder, paths = Path(out), []
    for fmt in formats:
        if fmt == "nifti":
            paths.append(folder / f"{name}.nii.gz")
            save_image(mask, paths[-1])
        elif fmt == "dicom-seg":
            from oncoseg.io.dicom_seg import write_dicom_seg

            assert series is not None
            paths.append(
                write_dicom_seg(mask, series, folder / f"{name}_seg.dcm", fg, run_name=run_name)
            )
        elif fmt == "rtstruct":
            from oncoseg.io.rtstruct import write_rtstruct

            assert series is not None
            paths.append(
                write_rtstruct(mask, series, folder / f"{name}_rtstruct.dcm", fg, run_name=run_name)
            )
    return paths
