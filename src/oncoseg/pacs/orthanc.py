"""PACS bridge: segment a study stored in Orthanc and store DICOM-SEG + RTSTRUCT back into it.

Talks to Orthanc's REST API with ``httpx``: ``POST /tools/lookup`` finds the study,
``GET /studies/{id}/series`` lists its series, ``GET /series/{id}/archive`` downloads the
chosen CT/MR series (zip), :func:`oncoseg.infer.pipeline.run_prediction` segments it and
writes the SEG and RTSTRUCT, which carry the source's patient and study identity, so
``POST /instances`` files them in the same study. A side-check warning (the note names the
other side) is logged.

Watching (:func:`watch`): ``GET /changes`` is polled for ``StableStudy`` events; a study is
processed once when a note named after its AccessionNumber (``<accession>.txt``) is in the
notes folder. A small JSON state file (written atomically) remembers the last change seen
and every study handled, by Orthanc ID (a hash), so a restart neither repeats nor skips
work, and the bridge's own uploads (which make the study change again) are not
re-segmented. Studies whose note is not there yet are re-checked on every poll.

No ML here: the bridge only moves files and calls the prediction pipeline. Identity (names, IDs,
accession numbers, UIDs) is never logged; studies are named by a prefix of Orthanc's ID.

Example:
    >>> with OrthancClient("http://localhost:8042") as pacs:  # doctest: +SKIP
    ...     segment_study(pacs, "1.2.3", note, Predictor.from_run("runs/ctv"), run_name="ctv")
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from oncoseg.infer import Predictor
from oncoseg.infer.pipeline import run_prediction
from oncoseg.io.atomic import write_json
from oncoseg.io.dicom_series import read_dicom_series

log = logging.getLogger(__name__)
OUTPUT_FORMATS = ("dicom-seg", "rtstruct")


class OrthancError(RuntimeError):
    """Orthanc refused a request or holds no study/series the bridge can segment."""


class OrthancClient:
    """A few calls of Orthanc's REST API (httpx; optional HTTP basic auth)."""

    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, auth=auth, timeout=timeout, transport=transport
        )

    def __enter__(self) -> OrthancClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise OrthancError(f"{self.url}: {method} {path} failed ({exc})") from exc
        if response.status_code >= 400:
            raise OrthancError(f"{self.url}: {method} {path} answered HTTP {response.status_code}")
        return response

    def get(self, path: str, **params: Any) -> Any:
        """JSON of ``GET path``."""
        return self._call("GET", path, params=params or None).json()

    def find_study(self, study_uid: str) -> str:
        """Orthanc's ID of the study with this Study Instance UID."""
        hits = self._call("POST", "/tools/lookup", content=study_uid).json()
        ids = [h["ID"] for h in hits if h.get("Type") == "Study"]
        if not ids:
            raise OrthancError(f"{self.url}: no study with the given Study Instance UID")
        return str(ids[0])

    def download_series(self, series_id: str, folder: Path) -> Path:
        """Unpack the series' zip archive into ``folder``; returns ``folder``."""
        archive, path = folder / "series.zip", f"/series/{series_id}/archive"
        try:
            with self._http.stream("GET", path) as response:
                if response.status_code >= 400:
                    raise OrthancError(
                        f"{self.url}: GET {path} answered HTTP {response.status_code}"
                    )
                with archive.open("wb") as fh:
                    for chunk in response.iter_bytes():
                        fh.write(chunk)
        except httpx.HTTPError as exc:
            raise OrthancError(f"{self.url}: GET {path} failed ({exc})") from exc
        out = folder / "series"
        out.mkdir()
        # files renamed by number: the archive's folder names hold the patient's name and ID
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            for n, member in enumerate(members):
                (out / f"{n:06d}.dcm").write_bytes(zf.read(member))
        archive.unlink()
        return out

    def upload(self, path: Path) -> dict[str, Any]:
        """``POST /instances`` one DICOM file; returns Orthanc's answer (ID, ParentStudy)."""
        answer = self._call("POST", "/instances", content=path.read_bytes()).json()
        if not isinstance(answer, dict) or answer.get("Status") not in ("Success", "AlreadyStored"):
            raise OrthancError(f"{self.url}: {path.name} was not stored ({answer})")
        return answer


def _wanted_modality(predictor: Predictor) -> str:
    names = predictor.plan.channel_names
    if len(names) != 1:
        raise OrthancError(
            f"this model needs {len(names)} channels; the bridge segments one series "
            "(use oncoseg predict with one -i per channel)"
        )
    return "CT" if names["0"].upper() == "CT" else "MR"


def choose_series(
    pacs: OrthancClient, study_id: str, modality: str, series_uid: str | None = None
) -> str:
    """Orthanc ID of the study's ``modality`` series (``series_uid`` picks among several)."""
    found = [
        s
        for s in pacs.get(f"/studies/{study_id}/series")
        if s["MainDicomTags"].get("Modality") == modality
        and (series_uid is None or s["MainDicomTags"].get("SeriesInstanceUID") == series_uid)
    ]
    if len(found) == 1:
        return str(found[0]["ID"])
    if not found:
        raise OrthancError(f"study {study_id[:8]}: no {modality} series to segment")
    listing = "\n".join(
        f"  {s['MainDicomTags'].get('SeriesInstanceUID', '?')}  "
        f"'{s['MainDicomTags'].get('SeriesDescription', '')}'  {len(s['Instances'])} instances"
        for s in found
    )
    raise OrthancError(
        f"study {study_id[:8]}: {len(found)} {modality} series, choose one (--series UID):\n"
        + listing
    )


def segment_series(
    pacs: OrthancClient,
    study_id: str,
    note: str,
    predictor: Predictor,
    *,
    run_name: str = "",
    series_uid: str | None = None,
) -> list[str]:
    """Segment one series of an Orthanc study and upload SEG + RTSTRUCT into the study.

    Returns:
        The Orthanc IDs of the stored instances (SEG first).
    """
    series_id = choose_series(pacs, study_id, _wanted_modality(predictor), series_uid)
    with tempfile.TemporaryDirectory(prefix="oncoseg-orthanc-") as tmp:
        folder = pacs.download_series(series_id, Path(tmp))
        series = read_dicom_series(folder)
        result = run_prediction(
            predictor,
            [series.image],
            note=note,
            out=Path(tmp) / "out",
            name="oncoseg",
            formats=OUTPUT_FORMATS,
            series=series,
            run_name=run_name,
        )
        if result.warning:
            log.warning("study %s: %s", study_id[:8], result.warning)
        stored = []
        for path in result.files:
            answer = pacs.upload(path)
            if answer.get("ParentStudy") != study_id:
                raise OrthancError(f"{path.name} landed outside study {study_id[:8]}")
            stored.append(str(answer["ID"]))
    log.info("study %s: stored SEG and RTSTRUCT (%d instances)", study_id[:8], len(stored))
    return stored


def segment_study(
    pacs: OrthancClient,
    study_uid: str,
    note: str,
    predictor: Predictor,
    *,
    run_name: str = "",
    series_uid: str | None = None,
) -> list[str]:
    """:func:`segment_series` for the study with this Study Instance UID."""
    study_id = pacs.find_study(study_uid)
    return segment_series(pacs, study_id, note, predictor, run_name=run_name, series_uid=series_uid)


@dataclass
class WatchState:
    """What :func:`watch` has seen: the last change and each handled study (by Orthanc ID)."""

    since: int = 0
    done: dict[str, str] = field(default_factory=dict)  # study ID -> "stored ..." / "failed ..."
    waiting: list[str] = field(default_factory=list)  # stable studies whose note is not there

    @classmethod
    def read(cls, path: Path) -> WatchState:
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(raw["since"]), dict(raw["done"]), list(raw.get("waiting", [])))
        except (ValueError, KeyError, TypeError) as exc:
            raise OrthancError(f"{path}: not a watch state file ({exc})") from exc

    def write(self, path: Path) -> None:
        write_json(path, {"since": self.since, "done": self.done, "waiting": self.waiting})


def note_for(notes_dir: Path, accession: str) -> str | None:
    """The note ``<accession>.txt`` (or ``<accession>``) in ``notes_dir``; None if absent."""
    if not accession or "/" in accession or "\\" in accession or accession in (".", ".."):
        return None
    for name in (f"{accession}.txt", accession):
        path = notes_dir / name
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


@dataclass
class Watcher:
    """One bridge process watching Orthanc (see :func:`watch`)."""

    pacs: OrthancClient
    predictor: Predictor
    notes_dir: Path
    state_path: Path
    run_name: str = ""
    state: WatchState = field(init=False)

    def __post_init__(self) -> None:
        self.state = WatchState.read(self.state_path)

    def _handle(self, study_id: str) -> None:
        if study_id in self.state.done:
            return
        try:
            tags = self.pacs.get(f"/studies/{study_id}")["MainDicomTags"]
            note = note_for(self.notes_dir, str(tags.get("AccessionNumber", "")))
            if note is None:
                if study_id not in self.state.waiting:
                    self.state.waiting.append(study_id)
                return
            ids = segment_series(self.pacs, study_id, note, self.predictor, run_name=self.run_name)
            self.state.done[study_id] = f"stored {len(ids)} instances"
        except (OrthancError, ValueError, OSError, zipfile.BadZipFile) as exc:
            # one bad study (deleted, unreadable, refused) must not stop the watcher
            self.state.done[study_id] = f"failed: {exc}"
            log.warning("study %s: failed: %s", study_id[:8], exc)
        if study_id in self.state.waiting:
            self.state.waiting.remove(study_id)
        self.state.write(self.state_path)

    def poll(self) -> int:
        """Handle the changes since the last poll and the waiting studies; returns how many
        studies were handled."""
        before = len(self.state.done)
        for study_id in list(self.state.waiting):
            self._handle(study_id)
        done = False
        while not done:
            page = self.pacs.get("/changes", since=self.state.since, limit=100)
            for change in page["Changes"]:
                if change["ChangeType"] == "StableStudy":
                    self._handle(str(change["ID"]))
            self.state.since, done = int(page["Last"]), bool(page["Done"])
            self.state.write(self.state_path)
        return len(self.state.done) - before


class Pollable(Protocol):
    def poll(self) -> int: ...


def watch(
    watcher: Pollable,
    *,
    interval: float = 10.0,
    polls: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll every ``interval`` seconds (``polls`` times, or until interrupted); returns the
    number of studies handled. A watcher whose ``pending`` says more studies are ready polls
    again at once."""
    handled, n = 0, 0
    while polls is None or n < polls:
        handled += watcher.poll()
        n += 1
        if (polls is None or n < polls) and not getattr(watcher, "pending", 0):
            sleep(interval)
    return handled


def client_from_env(url: str, user: str | None) -> OrthancClient:
    """A client with basic auth when ``user`` is given (password from ``ORTHANC_PASSWORD``)."""
    if user is None:
        return OrthancClient(url)
    password = os.environ.get("ORTHANC_PASSWORD")
    if password is None:
        raise OrthancError("--user needs the password in the ORTHANC_PASSWORD variable")
    return OrthancClient(url, auth=(user, password))
