"""HL7 v2 notes over MLLP: sent by python-hl7's ``mllp_send`` (a sender we did not write),
ACKs read back by hl7apy (a parser we did not write either); refused messages store
nothing, and no planted identifier reaches a file or a log line."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oncoseg.pacs.hl7 import Refusal, read_note_message
from oncoseg.pacs.mllp import SB, Framer, ListenerThread
from oncoseg.pacs.notes_store import AmbiguousNote, NoteStore

hl7apy_parser = pytest.importorskip("hl7apy.parser")
MLLP_SEND = Path(sys.executable).with_name("mllp_send")

NAMES = ("Holloway", "Margaret", "Pemberton")
IDS = ("7731946", "AB123456", "ACC20240301A", "ACC20240302B")
NOTE = "Mrs Margaret Holloway (MRN 7731946), seen 01/03/2024.~Left breast IDC, BCS, N1."


def message(
    kind: str = "MDM^T02^MDM_T02",
    control: str = "C1",
    pid3: str = "7731946^^^HOSP^MR~AB123456^^^NHS^SS",
    obr: str = "OBR|1||ACC20240301A",
    obx: tuple[str, ...] = (f"OBX|1|TX|||{NOTE}",),
    txa: str = "TXA|1|CN|TX|20240301",
) -> bytes:
    segs = [
        f"MSH|^~\\&|EMR|HOSP|ONCOSEG|RT|20240301101500||{kind}|{control}|P|2.5",
        "EVN|T02|20240301101500",
        f"PID|1||{pid3}||HOLLOWAY^Margaret^Ann||19580412|F",
        txa,
        obr,
        *obx,
    ]
    return "\r".join(s for s in segs if s).encode("utf-8")


CASES: dict[str, tuple[bytes, str, str]] = {  # control ID -> (message, MSA-1, ERR-3)
    "OK1": (message(control="OK1"), "AA", ""),
    "OK2": (  # ORU^R01, accession in OBR-18 only, FT with escapes and two OBX
        message(
            "ORU^R01^ORU_R01",
            "OK2",
            obr="OBR|1||||||20240302|||||||||||ACC20240302B",
            obx=("OBX|1|FT|||Referred by Dr Pemberton.\\.br\\Right breast", "OBX|2|TX|||N0."),
            txa="",
        ),
        "AA",
        "",
    ),
    "OK3": (message(control="OK3", obr="", txa="TXA|1|CN|TX|20240305"), "AA", ""),
    "ADT": (message("ADT^A08^ADT_A01", "ADT"), "AR", "200"),
    "NOPID": (message(control="NOPID", pid3=""), "AE", "101"),
    "CUT": (message(control="CUT").split(b"\rOBR")[0], "AE", "101"),  # truncated before OBR
    "ED": (
        message(control="ED", obx=("OBX|1|ED|||^application^pdf^Base64^JVBERi0=",)),
        "AE",
        "102",
    ),
    "LATIN1": (message(control="LATIN1").replace(b"IDC", "IDC é".encode("latin-1")), "AR", "102"),
    "BIG": (message(control="BIG", obx=(f"OBX|1|TX|||{'x' * 20000}",)), "AR", "207"),
    "": (b"hello, this is not HL7", "AR", "100"),
}


@pytest.fixture()
def mllp_send() -> Path:
    if not MLLP_SEND.exists() and shutil.which("mllp_send") is None:
        pytest.skip("python-hl7's mllp_send is not installed (pip install hl7)")
    return MLLP_SEND if MLLP_SEND.exists() else Path(str(shutil.which("mllp_send")))


def test_ack_matrix_and_nothing_stored_for_refusals(
    mllp_send: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    batch = tmp_path / "batch.hl7"
    batch.write_bytes(b"".join(SB + m + b"\x1c\r" for m, _, _ in CASES.values()))
    store = NoteStore(tmp_path / "store")
    with ListenerThread(store, max_bytes=8192) as lt:
        out = subprocess.run(
            [str(mllp_send), "-p", str(lt.port), "-f", str(batch), "127.0.0.1"],
            capture_output=True,
            timeout=60,
        )
        counts = dict(lt.listener.counts)
    assert out.returncode == 0, out.stderr
    acks = [a.strip(b"\x0b\r\n") for a in out.stdout.split(b"\x1c\r\n") if a.strip()]
    assert len(acks) == len(CASES)
    got = {}
    for ack in acks:
        parsed = hl7apy_parser.parse_message(ack.decode().replace("\n", "\r"), find_groups=False)
        err = parsed.err.err_3.to_er7().split("^")[0] if parsed.children.get("ERR") else ""
        got[parsed.msa.msa_2.value] = (parsed.msa.msa_1.value, err, parsed.msa.msa_3.value)
    assert {k: v[:2] for k, v in got.items()} == {k: (c, e) for k, (_, c, e) in CASES.items()}
    assert "over the cap of 8192 bytes" in got["BIG"][2] and "UTF-8" in got["LATIN1"][2]
    assert counts["AA"] == 3 and counts["AR"] == 4 and counts["AE"] == 3
    # exactly the three accepted notes are stored, and can be found the ways the watcher asks
    records = store.records()
    assert sorted(r.source for r in records) == ["hl7"] * 3
    by_acc = store.find(accession="ACC20240302B")
    assert by_acc is not None and by_acc.text.endswith("Right breast\nN0.")
    by_date = store.find(accession="UNKNOWN", mrn="7731946", date="20240305")
    assert by_date is not None and by_date.date == "20240305"
    assert store.find(accession="UNKNOWN", mrn="7731946", date="20240306") is None
    # identifiers: in no file on disk, in no log line
    texts = [p.read_bytes() for p in tmp_path.joinpath("store").rglob("*") if p.is_file()]
    logs = caplog.text
    assert texts and logs
    for planted in (*NAMES, *IDS):
        assert all(planted.lower().encode() not in t.lower() for t in texts), planted
        assert planted.lower() not in logs.lower(), planted


def test_cut_frame_is_counted_and_not_stored(tmp_path: Path) -> None:
    store = NoteStore(tmp_path / "store")
    with ListenerThread(store) as lt:
        with socket.create_connection(("127.0.0.1", lt.port)) as sock:
            sock.sendall(SB + message(control="HALF")[:150])
        for _ in range(100):
            if lt.listener.counts["cut"]:
                break
            time.sleep(0.02)
        assert lt.listener.counts == {"AA": 0, "AE": 0, "AR": 0, "cut": 1}
    assert store.records() == []


def test_framer_drops_oversized_frames_as_they_come() -> None:
    framer = Framer(max_bytes=100)
    frames = framer.feed(SB + b"MSH|^~\\&|A|B|C|D|1||ORU^R01|BIGID|P|2.5\r" + b"x" * 500)
    assert frames == [] and len(framer._buf) == 0  # nothing of the big frame is held
    frames = framer.feed(b"y" * 300 + b"\x1c")
    frames += framer.feed(b"\r" + SB + b"small\x1c\r")
    assert [f.oversize for f in frames] == [
        len(b"MSH|^~\\&|A|B|C|D|1||ORU^R01|BIGID|P|2.5\r") + 800,
        0,
    ]
    assert frames[0].data.startswith(b"MSH") and frames[1].data == b"small"


def test_read_note_message_fields() -> None:
    msg = read_note_message(message())
    assert (msg.mrn, msg.accession, msg.date, msg.message_type) == (
        "7731946",
        "ACC20240301A",
        "20240301",
        "MDM^T02",
    )
    assert msg.text.splitlines() == [NOTE.split("~")[0], NOTE.split("~")[1]]
    assert {"HOLLOWAY", "Margaret", "AB123456"} <= set(msg.identifiers)
    with pytest.raises(Refusal) as err:
        read_note_message(message(obr="", txa="TXA|1|CN|TX|").replace(b"20240301101500||", b"||"))
    assert err.value.code == "AE" and "cannot be matched" in err.value.reason


def test_mrn_and_date_match_refuses_to_guess(tmp_path: Path) -> None:
    store = NoteStore(tmp_path, salt=b"s")
    store.put("Left breast, N0.", source="hl7", mrn="42", date="20240101")
    assert store.find(mrn="42", date="20240101") is not None
    store.put("Right breast, N2.", source="hl7", mrn="42", date="20240101")
    with pytest.raises(AmbiguousNote):
        store.find(mrn="42", date="20240101")
    # a note with an accession number is never taken for another study's note
    store.put("Left, N1.", source="hl7", mrn="43", accession="X1", date="20240102")
    assert store.find(accession="X2", mrn="43", date="20240102") is None
    assert store.find(accession="X1").text == "Left, N1."  # type: ignore[union-attr]
