"""An uploaded case -> a stored case: files checked with the project's readers, note
de-identified.

``image`` is one NIfTI file per channel, in the model's channel order, or one ``.zip`` of a
DICOM series (then ``series`` may pick a series UID when the zip holds several). Every
image is read back with :func:`oncoseg.io.image.load_image` or
:func:`oncoseg.io.dicom_series.read_dicom_series`, whose errors become a
:class:`FieldError` naming the form field; the channels must share one 3D grid and match the
model's channel count. The note is cleaned and de-identified (:func:`model_view`) before it
is stored; the raw note and the uploaded file names are never kept or logged.

Example:
    >>> model_view("Seen by Dr. Alice Moreau on 03/04/2023. N2, left side.")
    'Seen by Dr. [NAME] on [DATE]. N2, left side.'
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

import numpy as np

from oncoseg.io.image import Image, ImageReadError, load_image, same_geometry
from oncoseg.io.nib import nib
from oncoseg.serve.store import Case, Store
from oncoseg.text.deid import deidentify
from oncoseg.text.notes import clean_note

if TYPE_CHECKING:  # pydicom is imported only when a DICOM case arrives
    from oncoseg.io.dicom_series import DicomSeries

MAX_NOTE_CHARS = 20_000  # a clinical note is a few kB
MAX_ZIP_FILES = 5_000
MAX_VOXELS = 2**28  # 268 M voxels (e.g. 1024 x 1024 x 256): a gzip of zeros must not fill RAM
ZIP_EXPANSION = 4  # a DICOM zip may unpack to at most this many times the upload cap


class FieldError(ValueError):
    """Bad client input; ``field`` names the form or JSON field (-> HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class Upload(Protocol):
    """What the service needs of an uploaded file (Starlette's ``UploadFile`` fits)."""

    filename: str | None
    file: IO[bytes]


def model_view(note: str) -> str:
    """What the model (and the store, and the logs) see of a note: cleaned, de-identified."""
    return deidentify(clean_note(note)).text


def check_note(note: object, required: bool) -> str:
    """The de-identified note, or FieldError when it is not usable text."""
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise FieldError("note", f"expected text, got {type(note).__name__}")
    if len(note) > MAX_NOTE_CHARS:
        raise FieldError("note", f"{len(note)} characters, expected a note under {MAX_NOTE_CHARS}")
    text = model_view(note)
    if required and not text.strip():
        raise FieldError("note", "empty; this model reads the clinical note, expected some text")
    return text


def store_case(
    store: Store,
    uploads: Sequence[Upload],
    note: str,
    channels: int,
    max_unzipped: int,
    series_uid: str | None = None,
) -> Case:
    """Check and store an uploaded case; nothing is left on disk when a check fails."""
    if not uploads:
        raise FieldError("image", "missing; expected one NIfTI file per channel or a DICOM .zip")
    with store.new_case() as (case_id, folder):
        inputs = folder / "input"
        inputs.mkdir()
        if _is_zip(uploads[0]):
            if len(uploads) != 1:
                raise FieldError("image", "a DICOM .zip must be the only image part")
            _unzip(uploads[0].file, inputs / "dicom", max_unzipped)
            images = [_read_series(inputs / "dicom", series_uid).image]
            kind = "dicom"
        else:
            images = [_save_nifti(u, inputs, i) for i, u in enumerate(uploads)]
            kind = "nifti"
        check_channels(images, channels)
        case = Case(case_id, kind, len(images), note, series_uid=series_uid)
        store.write_case(folder, case)
    return case


def check_channels(images: Sequence[Image], channels: int) -> None:
    """FieldError unless there are ``channels`` 3D images on one grid."""
    if len(images) != channels:
        raise FieldError("image", f"this model needs {channels} channel(s), got {len(images)}")
    for i, img in enumerate(images):
        if img.array.ndim != 3:
            raise FieldError(f"image[{i}]", f"expected a 3D image, got shape {img.shape}")
        if not same_geometry(img, images[0]):
            raise FieldError(
                f"image[{i}]", f"does not share image[0]'s grid ({img.shape} vs {images[0].shape})"
            )


def load_case_images(store: Store, case: Case) -> list[Image]:
    """The stored images of a case (channel order), as the model reads them."""
    folder = store.input_dir(case.case_id)
    if case.kind == "dicom":
        return [read_case_series(store, case).image]
    return [load_image(p) for p in sorted(folder.glob("[0-9][0-9][0-9][0-9].nii*"))]


def _is_zip(upload: Upload) -> bool:
    head = upload.file.read(4)
    upload.file.seek(0)
    return head == b"PK\x03\x04" or (upload.filename or "").lower().endswith(".zip")


def _save_nifti(upload: Upload, folder: Path, index: int) -> Image:
    head = upload.file.read(2)
    upload.file.seek(0)
    gzipped = head == b"\x1f\x8b"
    path = folder / f"{index:04d}.nii{'.gz' if gzipped else ''}"
    with path.open("wb") as f:
        shutil.copyfileobj(upload.file, f)
    _check_voxels(path, f"image[{index}]")
    try:
        return load_image(path)
    except ImageReadError as exc:  # the message names our temp path: name the field instead
        raise FieldError(f"image[{index}]", str(exc).replace(f"{path}: ", "")) from exc


def _check_voxels(path: Path, field: str) -> None:
    """FieldError when the header declares more than MAX_VOXELS (read before any pixel)."""
    try:
        shape = nib.load(str(path)).shape  # type: ignore[attr-defined]
    except Exception:  # not NIfTI at all: load_image names the problem
        return
    voxels = int(np.prod(shape, dtype=np.int64))
    if voxels > MAX_VOXELS:
        raise FieldError(field, f"shape {tuple(shape)} is {voxels} voxels, at most {MAX_VOXELS}")


def _unzip(data: IO[bytes], folder: Path, max_bytes: int) -> None:
    """Unpack a zip's files flat into ``folder`` under numbered names (no member path is
    trusted), refusing archives that expand past ``max_bytes`` or hold too many files."""
    try:
        with zipfile.ZipFile(data) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) > MAX_ZIP_FILES:
                raise FieldError(
                    "image", f"zip holds {len(members)} files, expected at most {MAX_ZIP_FILES}"
                )
            if sum(m.file_size for m in members) > max_bytes:
                raise FieldError("image", f"zip expands past {max_bytes // 2**20} MB")
            folder.mkdir()
            for i, m in enumerate(members):
                with zf.open(m) as src, (folder / f"{i:05d}.dcm").open("wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise FieldError("image", f"not a readable zip file ({exc})") from exc


def read_case_series(store: Store, case: Case) -> DicomSeries:
    """The DICOM series of a case stored from a zip (for DICOM-SEG and RTSTRUCT outputs)."""
    return _read_series(store.input_dir(case.case_id) / "dicom", case.series_uid)


def _read_series(folder: Path, series_uid: str | None) -> DicomSeries:
    from oncoseg.io.dicom_series import read_dicom_series

    try:
        return read_dicom_series(folder, series_uid)
    except ImageReadError as exc:
        text = str(exc).replace(f"{folder}: ", "DICOM zip: ").replace("--series", "field series")
        raise FieldError("image", text) from exc
