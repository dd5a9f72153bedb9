"""HL7 v2 notes in and results out: MDM^T02 / ORU^R01 parsed with python-hl7.

An EMR (or its interface engine) sends the clinical note as an HL7 v2 message: MDM^T02
(original document notification and content) or ORU^R01 (observation result) whose OBX
segments carry the text (value types TX, FT, ST; one line per repetition and per segment).
:func:`read_note_message` turns one message into a :class:`NoteMessage` with the fields
the watcher matches on, or raises :class:`Refusal` with the acknowledgement code and the
reason; :func:`build_ack` writes the standard ACK (MSA-1 AA / AE / AR, MSA-2 the message
control ID, MSA-3 and an ERR segment with the reason).

Where the fields are (HL7 v2.5; configurable through :class:`FieldMap`):

- MRN: PID-3, the repetition whose identifier type (CX-5) is ``MR``, else the first;
- accession number: OBR-3 (filler order number), ORC-3, then OBR-18 (placer field 1, where
  radiology systems often keep it);
- date: TXA-4 (activity date), OBR-7 (observation date), then MSH-7.

Codes: AR (rejected, nothing read) for a message that is not UTF-8, not HL7 (no MSH),
larger than the cap, or of an unsupported type; AE (application error, nothing stored) for
a message that parses but lacks what is needed (no MRN, no note text, nothing to match on).
The note text is returned raw: the caller de-identifies it before it is written anywhere
(:mod:`oncoseg.pacs.notes_store`). Nothing here logs message content.

Example:
    >>> raw = (b"MSH|^~\\\\&|EMR|H|ONCOSEG|RT|20240301||ORU^R01|C1|P|2.5\\r"
    ...        b"PID|1||123^^^H^MR||DOE^JANE\\rOBR|1||ACC1\\rOBX|1|TX|||Left breast, N1.")
    >>> msg = read_note_message(raw)
    >>> msg.accession, msg.text
    ('ACC1', 'Left breast, N1.')
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import hl7

# python-hl7 logs the raw segment or field it cannot read (a PID line, a note): never let
# those records through, whatever the application's logging configuration.
logging.getLogger("hl7").setLevel(logging.CRITICAL + 1)

SUPPORTED = {("MDM", "T02"), ("ORU", "R01")}
TEXT_TYPES = {"TX", "FT", "ST"}
MAX_BYTES = 1_000_000  # default size cap of one message (a long discharge letter is ~50 kB)

# HL7 table 0357 (message error condition codes)
ERR_SEGMENT_SEQUENCE = "100"
ERR_REQUIRED_FIELD = "101"
ERR_DATA_TYPE = "102"
ERR_UNSUPPORTED_TYPE = "200"
ERR_INTERNAL = "207"


class Refusal(ValueError):
    """A message that is not stored: ``code`` is AE or AR, ``err`` the table-0357 code."""

    def __init__(self, code: str, err: str, reason: str, control_id: str = "") -> None:
        super().__init__(reason)
        self.code, self.err, self.reason, self.control_id = code, err, reason, control_id


@dataclass(frozen=True)
class FieldMap:
    """Where the matching fields are looked for, first non-empty wins."""

    accession: tuple[str, ...] = ("OBR.F3", "ORC.F3", "OBR.F18")
    date: tuple[str, ...] = ("TXA.F4", "OBR.F7", "MSH.F7")
    mrn_type: str = "MR"  # PID-3 identifier type code of the medical record number


@dataclass(frozen=True)
class NoteMessage:
    """What a note message says. ``text`` is raw (identifiers in it): de-identify it before
    writing it anywhere. ``identifiers`` are the message's own patient identifiers (names,
    IDs), removed from the text before the rule-based de-identifier runs."""

    message_type: str  # e.g. "MDM^T02"
    control_id: str
    mrn: str
    accession: str
    date: str  # YYYYMMDD or ""
    text: str
    identifiers: tuple[str, ...]


def _get(msg: hl7.Message, key: str) -> str:
    try:
        return str(msg[key]).strip()
    except (IndexError, KeyError, ValueError):
        return ""


def decode(raw: bytes, max_bytes: int = MAX_BYTES) -> hl7.Message:
    """Bytes of one message (MLLP frame removed) -> parsed message, or :class:`Refusal`."""
    if len(raw) > max_bytes:
        raise Refusal(
            "AR",
            ERR_INTERNAL,
            f"message of {len(raw)} bytes is over the cap of {max_bytes} bytes",
            _control_id_guess(raw),
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refusal(
            "AR",
            ERR_DATA_TYPE,
            f"message is not UTF-8 (byte {exc.start}); "
            "other character sets (MSH-18) are not supported",
            _control_id_guess(raw),
        ) from None
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    try:
        return hl7.parse(text)
    except (hl7.ParseException, IndexError, ValueError):
        raise Refusal(
            "AR", ERR_SEGMENT_SEQUENCE, "not an HL7 v2 message (no MSH segment first)"
        ) from None


def _control_id_guess(raw: bytes) -> str:
    """MSH-10 of a message refused before parsing (so the sender can match the ACK)."""
    head = raw[:2048].decode("utf-8", "replace").replace("\n", "\r").split("\r", 1)[0]
    if not head.startswith("MSH") or len(head) < 4:
        return ""
    fields = head.split(head[3])
    return fields[9][:64] if len(fields) > 9 and "\ufffd" not in fields[9] else ""


def _mrn(msg: hl7.Message, mrn_type: str) -> tuple[str, list[str]]:
    try:
        reps = msg.segment("PID")[3]
    except (KeyError, IndexError):
        return "", []
    ids: list[tuple[str, str]] = []
    for rep in reps if isinstance(reps, hl7.Field) else [reps]:
        comps = [str(c) for c in rep] if isinstance(rep, hl7.Repetition) else [str(rep)]
        if comps and comps[0].strip():
            ids.append((comps[0].strip(), comps[4].strip() if len(comps) > 4 else ""))
    typed = [i for i, t in ids if t == mrn_type]
    chosen = typed[0] if typed else (ids[0][0] if ids else "")
    return chosen, [i for i, _ in ids]


def _person_words(msg: hl7.Message) -> list[str]:
    """Names (PID-5 family, given, middle; PID-6 mother's maiden name; PID-9 alias), the
    account number (PID-18) and SSN (PID-19) of the message's patient."""
    words: list[str] = []
    for field, comps in ((5, 3), (6, 2), (9, 2), (18, 1), (19, 1)):
        try:
            value = str(msg.segment("PID")[field])
        except (KeyError, IndexError):
            continue
        for rep in value.split("~"):
            words += [c.strip() for c in rep.split("^")[:comps] if len(c.strip()) >= 2]
    return words


def _note_text(msg: hl7.Message) -> str:
    lines: list[str] = []
    try:
        obx_segments = msg.segments("OBX")
    except KeyError:
        obx_segments = []
    for obx in obx_segments:
        vtype = str(obx[2]).strip() if len(obx) > 2 else ""
        if vtype not in TEXT_TYPES:
            raise Refusal(
                "AE",
                ERR_DATA_TYPE,
                f"OBX-2 value type {vtype or '(empty)'!r}: only "
                f"text values ({', '.join(sorted(TEXT_TYPES))}) carry a note",
            )
        value = obx[5] if len(obx) > 5 else ""
        reps = (
            value
            if isinstance(value, hl7.Field) and value and isinstance(value[0], hl7.Repetition)
            else [value]
        )
        for rep in reps:
            lines.append(msg.unescape(str(rep)).replace("\r", "\n"))
    return "\n".join(lines).strip()


def read_note_message(
    raw: bytes, fields: FieldMap | None = None, max_bytes: int = MAX_BYTES
) -> NoteMessage:
    """Parse one HL7 v2 note message; :class:`Refusal` (AE/AR + reason) when it cannot be
    stored."""
    fields = fields or FieldMap()
    msg = decode(raw, max_bytes)
    control_id = _get(msg, "MSH.F10")[:64]
    kind = (_get(msg, "MSH.F9.R1.C1"), _get(msg, "MSH.F9.R1.C2"))
    if kind not in SUPPORTED:
        raise Refusal(
            "AR",
            ERR_UNSUPPORTED_TYPE,
            f"message type {'^'.join(kind)!r} is not supported (MDM^T02, ORU^R01)",
            control_id,
        )
    mrn, all_ids = _mrn(msg, fields.mrn_type)
    if not mrn:
        raise Refusal("AE", ERR_REQUIRED_FIELD, "PID-3 (patient identifier) is missing", control_id)
    try:
        text = _note_text(msg)
    except Refusal as exc:
        exc.control_id = control_id
        raise
    if not text:
        raise Refusal(
            "AE",
            ERR_REQUIRED_FIELD,
            "no OBX segment with note text (TX/FT/ST): nothing to store (truncated message?)",
            control_id,
        )
    accession = next((v for v in (_get(msg, k) for k in fields.accession) if v), "")
    accession = accession.split("^")[0][:64]
    date = next((v[:8] for v in (_get(msg, k) for k in fields.date) if v[:8].isdigit()), "")
    if not accession and not date:
        raise Refusal(
            "AE",
            ERR_REQUIRED_FIELD,
            "no accession number (OBR-3, ORC-3, OBR-18) "
            "and no date (TXA-4, OBR-7, MSH-7): the note cannot be matched",
            control_id,
        )
    identifiers = tuple(dict.fromkeys([*all_ids, *_person_words(msg), accession]))
    return NoteMessage(
        "^".join(kind), control_id, mrn, accession, date, text, tuple(i for i in identifiers if i)
    )


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")


_ESCAPES = {
    "\\": "\\E\\",
    "|": "\\F\\",
    "^": "\\S\\",
    "~": "\\R\\",
    "&": "\\T\\",
    "\r": " ",
    "\n": " ",
}


def _clean(value: str) -> str:
    """``value`` as the text of one HL7 field (separators escaped, HL7 v2.5 §2.7)."""
    return "".join(_ESCAPES.get(c, c) for c in value[:200])


def build_ack(raw: bytes, code: str, reason: str = "", err: str = "", control_id: str = "") -> str:
    """The ACK for ``raw``: MSH (sender/receiver swapped), MSA-1 ``code``, MSA-2 the control
    ID, MSA-3 ``reason``; an ERR segment (ERR-3 table-0357 ``err``, ERR-4 severity E) when
    ``code`` is not AA."""
    try:
        msg: Any = hl7.parse(raw.decode("utf-8").replace("\n", "\r").strip("\r"))
        sending, facility = _get(msg, "MSH.F3"), _get(msg, "MSH.F4")
        receiving, rfacility = _get(msg, "MSH.F5"), _get(msg, "MSH.F6")
        event, version = _get(msg, "MSH.F9.R1.C2"), _get(msg, "MSH.F12") or "2.5"
        control_id = control_id or _get(msg, "MSH.F10")
    except (UnicodeDecodeError, hl7.ParseException, IndexError, ValueError):
        sending = facility = receiving = rfacility = event = ""
        version = "2.5"
    ack_id = f"ACK{_now()}{abs(hash((raw, code))) % 10**6:06d}"
    segments = [
        "|".join(
            [
                "MSH",
                "^~\\&",
                _clean(receiving) or "ONCOSEG",
                _clean(rfacility),
                _clean(sending),
                _clean(facility),
                _now(),
                "",
                f"ACK^{_clean(event)}^ACK" if event else "ACK",
                ack_id,
                "P",
                _clean(version),
            ]
        ),
        "|".join(["MSA", code, _clean(control_id), _clean(reason)]),
    ]
    if code != "AA":
        segments.append(
            "|".join(
                ["ERR", "", "", f"{err or ERR_INTERNAL}^^HL70357", "E", "", "", "", _clean(reason)]
            )
        )
    return "\r".join(segments) + "\r"
