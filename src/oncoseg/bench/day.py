"""A reproducible clinical day: Orthanc, studies over C-STORE, notes over MLLP, the watcher.

``python -m oncoseg.bench.day --model RUN --work DIR [--studies 40 ...]`` re-runs itself in
a private network namespace (``unshare --net``, loopback up: Debian's Orthanc listens on
every interface, DESIGN §8) and there:

1. writes the studies (phantom CTs as DICOM, :mod:`oncoseg.bench.day_data`) and notes;
2. starts Debian's Orthanc (DICOM port on, ``StableAge`` as given), the MLLP listener
   (:mod:`oncoseg.pacs.mllp`) and the watcher (``oncoseg pacs watch``, a subprocess);
3. sends each study with dcmtk's ``storescu`` at random arrival times (exponential gaps);
   its note goes with python-hl7's ``mllp_send`` before or after the images (half each),
   or (one study) as a DICOM SR stored in the study; some studies get no note; malformed
   messages are sent in between;
4. SIGKILLs the watcher at ``kills`` random moments and restarts it;
5. reports per-study latency (last image stored -> SEG and RTSTRUCT in the PACS; and from
   when the study was both stable and had its note), p50/p95, throughput, and the counts
   of lost, duplicated, unmatched and wrongly segmented studies; the SEG and RTSTRUCT of
   one study are checked with dciodvfy. Writes ``DIR/day.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncoseg.bench.day_data import (
    DayStudy,
    make_studies,
    malformed_messages,
    note_message,
    write_sr,
)
from oncoseg.bench.day_report import count_outputs, finished, summary
from oncoseg.io.provenance import compute_device, provenance

NS_FLAG = "ONCOSEG_DAY_IN_NAMESPACE"


@dataclass
class DayConfig:
    model: Path
    work: Path
    studies: int = 5
    shape: tuple[int, int, int] = (512, 512, 100)  # x, y, slices of each CT
    no_note: int = 1  # studies whose note never comes
    gap_s: float = 8.0  # mean seconds between study arrivals (exponential)
    note_delay_s: float = 3.0  # note-after studies: seconds after the last image
    stable_age: int = 2  # Orthanc's StableAge (s): the wait before a study counts as stable
    kills: int = 3
    kill_window_s: float = 30.0  # kills fall in [3 s, last arrival + 10 s + this]
    note_timeout: float = 20.0  # watcher: seconds a stable study waits for its note
    poll_s: float = 0.5  # watcher's poll interval
    timeout_s: float = 1500.0
    seed: int = 0
    date: str = "20240301"
    ports: tuple[int, int, int] = (8042, 4242, 2575)  # HTTP, DICOM, MLLP
    max_bytes: int = 200_000  # MLLP size cap


@dataclass
class _Clock:
    """Times (time.time) seen by the day for each study index."""

    stored: dict[int, float] = field(default_factory=dict)
    noted: dict[int, float] = field(default_factory=dict)
    outputs: dict[int, dict[str, float]] = field(default_factory=dict)
    acks: list[tuple[str, str]] = field(default_factory=list)
    kills: list[float] = field(default_factory=list)


def _tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not Path(found).exists():
        raise FileNotFoundError(f"{name} is not installed (see docs/department.md)")
    return found


def start_orthanc(cfg: DayConfig) -> subprocess.Popen[bytes]:
    from oncoseg.pacs.orthanc import OrthancClient

    http, dicom, _ = cfg.ports
    conf = {
        "Name": "oncoseg-day",
        "StorageDirectory": str(cfg.work / "orthanc-db"),
        "IndexDirectory": str(cfg.work / "orthanc-db"),
        "HttpPort": http,
        "DicomServerEnabled": True,
        "DicomPort": dicom,
        "DicomAet": "ORTHANC",
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "StableAge": cfg.stable_age,
        "Plugins": [],
    }
    (cfg.work / "orthanc.json").write_text(json.dumps(conf))
    log = (cfg.work / "orthanc.log").open("wb")
    proc = subprocess.Popen(
        [_tool("Orthanc"), str(cfg.work / "orthanc.json")], stdout=log, stderr=log
    )
    pacs = OrthancClient(f"http://127.0.0.1:{http}", timeout=5)
    for _ in range(300):
        try:
            pacs.get("/system")
            return proc
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("Orthanc did not start (see orthanc.log)")


class _Watcher:
    """The watcher subprocess, restartable."""

    def __init__(self, cfg: DayConfig) -> None:
        self.cfg = cfg
        self.proc: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()  # held while the killer kills and restarts
        self.log = (cfg.work / "watcher.log").open("ab")

    def start(self) -> None:
        args = [
            sys.executable,
            "-m",
            "oncoseg.cli",
            "pacs",
            "watch",
            "--model",
            str(self.cfg.model),
            "--url",
            f"http://127.0.0.1:{self.cfg.ports[0]}",
            "--store",
            str(self.cfg.work / "store"),
            "--state",
            str(self.cfg.work / "state"),
            "--interval",
            str(self.cfg.poll_s),
            "--note-timeout",
            str(self.cfg.note_timeout),
            "--device",
            "cpu",
        ]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def check_alive(self) -> None:
        """RuntimeError when the watcher exited by itself (not killed by the day)."""
        with self.lock:
            if self.proc is not None and self.proc.poll() is not None:
                tail = (self.cfg.work / "watcher.log").read_text(errors="replace")[-1500:]
                raise RuntimeError(f"the watcher exited ({self.proc.returncode}):\n{tail}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _send_note(cfg: DayConfig, raw: bytes, clock: _Clock, what: str) -> str:
    frame = cfg.work / "hl7" / f"{what.replace(' ', '_')}-{time.monotonic_ns()}.hl7"
    frame.parent.mkdir(exist_ok=True)
    frame.write_bytes(b"\x0b" + raw + b"\x1c\r")
    out = subprocess.run(
        [_tool("mllp_send"), "-p", str(cfg.ports[2]), "-f", str(frame), "127.0.0.1"],
        capture_output=True,
        timeout=60,
    )
    frame.unlink()
    text = out.stdout.decode("utf-8", "replace")
    code = text.split("MSA|", 1)[1][:2] if "MSA|" in text else f"no ACK (rc {out.returncode})"
    clock.acks.append((what, code))
    return code


def _arrive(cfg: DayConfig, study: DayStudy, order: str, clock: _Clock) -> None:
    note = note_message(study, cfg.date)
    if order == "sr":  # the note as a DICOM SR in the study, stored before the images
        sr = write_sr(study, cfg.work / "sr" / f"study{study.index:03d}")
        subprocess.run(
            [_tool("storescu"), "-aec", "ORTHANC", "127.0.0.1", str(cfg.ports[1]), str(sr)],
            check=True,
            capture_output=True,
            timeout=600,
        )
        clock.noted[study.index] = time.time()
    if order == "note-first":
        _send_note(cfg, note, clock, "note")
        clock.noted[study.index] = time.time()
    subprocess.run(
        [
            _tool("storescu"),
            "-aec",
            "ORTHANC",
            "+sd",
            "+r",
            "127.0.0.1",
            str(cfg.ports[1]),
            str(study.folder),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    clock.stored[study.index] = time.time()
    if order == "note-after":
        time.sleep(cfg.note_delay_s)
        _send_note(cfg, note, clock, "note")
        clock.noted[study.index] = time.time()


def _monitor(cfg: DayConfig, by_uid: dict[str, int], clock: _Clock, stop: threading.Event) -> None:
    """Record when each study's SEG and RTSTRUCT first appear (Orthanc's NewSeries)."""
    from oncoseg.pacs.orthanc import OrthancClient

    with OrthancClient(f"http://127.0.0.1:{cfg.ports[0]}", timeout=30) as pacs:
        since = 0
        while not stop.is_set():
            page = pacs.get("/changes", since=since, limit=500)
            for change in page["Changes"]:
                if change["ChangeType"] != "NewSeries":
                    continue
                series = pacs.get(f"/series/{change['ID']}")
                modality = series["MainDicomTags"].get("Modality", "")
                if modality in ("SEG", "RTSTRUCT"):
                    study = pacs.get(f"/studies/{series['ParentStudy']}")
                    k = by_uid[study["MainDicomTags"]["StudyInstanceUID"]]
                    clock.outputs.setdefault(k, {}).setdefault(modality, time.time())
            since = int(page["Last"])
            time.sleep(0.2)


def _killer(watcher: _Watcher, times: list[float], clock: _Clock, stop: threading.Event) -> None:
    for t in times:
        if stop.wait(max(0.0, t - time.time())):
            return
        with watcher.lock:
            watcher.kill()
            clock.kills.append(time.time())
            watcher.start()


def _plan(cfg: DayConfig, studies: list[DayStudy]) -> list[tuple[float, DayStudy, str]]:
    """Arrival offsets (s) and note orders: no-note for the last ``no_note`` of a shuffle."""
    rng = random.Random(cfg.seed)
    order = list(studies)
    rng.shuffle(order)
    kinds = [
        "none" if i < cfg.no_note else ("note-first" if i % 2 else "note-after")
        for i in range(len(order))
    ]
    if len(order) - cfg.no_note >= 3:  # one study's note comes as a DICOM SR instead
        kinds[cfg.no_note] = "sr"
    rng.shuffle(kinds)
    t, plan = 0.0, []
    for study, kind in zip(order, kinds, strict=True):
        plan.append((t, study, kind))
        t += rng.expovariate(1.0 / cfg.gap_s)
    return plan


def run_day(cfg: DayConfig) -> dict[str, Any]:
    """Run the day (inside a private network namespace); returns the summary."""
    from oncoseg.pacs.mllp import ListenerThread
    from oncoseg.pacs.notes_store import NoteStore

    cfg.work.mkdir(parents=True, exist_ok=True)
    # the watcher's de-identification memo lives in the day's folder: every day starts cold
    os.environ.setdefault("ONCOSEG_DEID_MEMO", str(cfg.work / "deid-memo"))
    studies = make_studies(cfg.work / "studies", cfg.studies, cfg.shape, cfg.seed, cfg.date)
    plan = _plan(cfg, studies)
    clock, stop = _Clock(), threading.Event()
    orthanc = start_orthanc(cfg)
    watcher = _Watcher(cfg)
    try:
        with ListenerThread(
            NoteStore(cfg.work / "store"), port=cfg.ports[2], max_bytes=cfg.max_bytes
        ):
            watcher.start()
            t0 = time.time()
            span = plan[-1][0] + 10.0
            rng = random.Random(cfg.seed + 1)
            kill_at = sorted(
                t0 + rng.uniform(3.0, span + cfg.kill_window_s) for _ in range(cfg.kills)
            )
            by_uid = {s.study_uid: s.index for s in studies}
            threads = [
                threading.Thread(target=_monitor, args=(cfg, by_uid, clock, stop)),
                threading.Thread(target=_killer, args=(watcher, kill_at, clock, stop)),
            ]
            bad = malformed_messages(cfg.max_bytes)
            bad_at = sorted(random.Random(cfg.seed + 2).uniform(0, span) for _ in bad)
            for at, (what, raw) in zip(bad_at, bad, strict=True):
                threads.append(threading.Timer(at, _send_note, (cfg, raw, clock, what)))
            for at, study, kind in plan:
                threads.append(threading.Timer(at, _arrive, (cfg, study, kind, clock)))
            for th in threads:
                th.start()
            while time.time() - t0 < cfg.timeout_s and not (
                len(clock.kills) == cfg.kills and finished(cfg, plan, clock)
            ):
                time.sleep(0.5)
                watcher.check_alive()
            time.sleep(3 * cfg.poll_s + 1)  # a duplicate would show up now
            stop.set()
            for th in threads:
                th.join(timeout=60)
            watcher.stop()
            outputs = count_outputs(cfg, studies)
    finally:
        stop.set()
        watcher.stop()
        orthanc.terminate()
        orthanc.wait(timeout=60)
    result = summary(cfg, plan, clock, outputs, time.time() - t0)
    command = " ".join(["python -m oncoseg.bench.day", *map(_quote, sys.argv[1:])])
    result["provenance"] = provenance(
        command=command, device=compute_device(), model_run=str(cfg.model)
    )
    (cfg.work / "day.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--studies", type=int, default=40)
    p.add_argument("--shape", default="512,512,100", help="x,y,slices")
    p.add_argument("--no-note", type=int, default=4)
    p.add_argument("--gap", type=float, default=20.0, help="mean seconds between arrivals")
    p.add_argument("--stable-age", type=int, default=2)
    p.add_argument("--kills", type=int, default=3)
    p.add_argument(
        "--kill-window",
        type=float,
        default=30.0,
        help="kills fall up to this many seconds after the last arrival (+10 s)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=1500.0, help="seconds before giving up")
    args = p.parse_args(argv)
    if os.environ.get(NS_FLAG) != "1":
        cmd = " ".join([sys.executable, "-m", "oncoseg.bench.day", *map(_quote, sys.argv[1:])])
        env = {**os.environ, NS_FLAG: "1"}
        raise SystemExit(
            subprocess.call(
                ["unshare", "--net", "bash", "-c", f"ip link set lo up && exec {cmd}"], env=env
            )
        )
    shape = tuple(int(v) for v in args.shape.split(","))
    cfg = DayConfig(
        args.model.resolve(),
        args.work.resolve(),
        args.studies,
        shape,  # type: ignore[arg-type]
        args.no_note,
        args.gap,
        stable_age=args.stable_age,
        kills=args.kills,
        seed=args.seed,
        timeout_s=args.timeout,
        kill_window_s=args.kill_window,
    )
    sys.stdout.write(json.dumps(run_day(cfg), indent=1) + "\n")


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


if __name__ == "__main__":
    main()
