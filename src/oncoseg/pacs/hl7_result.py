"""The result message back to the EMR: an ORU^R01 saying the contours are in the PACS."""

from __future__ import annotations

from oncoseg.pacs.hl7 import _clean, _now


def _seg(*fields: str) -> str:
    return "|".join(fields)


def _obx(i: int, kind: str, ident: str, value: str, unit: str) -> str:
    """OBX-1 set id, -2 value type, -3 identifier, -5 value, -6 units, -11 status F."""
    return _seg("OBX", str(i), kind, ident, "", value, unit, *[""] * 5, "F")


def build_result(
    *,
    mrn: str,
    accession: str,
    volumes_ml: dict[str, float],
    status: str,
    control_id: str,
    sending: str = "ONCOSEG",
) -> str:
    """An ORU^R01 (HL7 v2.5): PID-3 the MRN, OBR-3 the accession number, OBR-25 F, one OBX
    (NM, mL) per label volume and one OBX (TX) with ``status``. The message carries the
    patient's MRN (it must attach to the record); it is never logged.

    Example:
        >>> msg = build_result(mrn="42", accession="A1", volumes_ml={"ctv": 512.25},
        ...                    status="stored", control_id="R1")
        >>> msg.splitlines()[3]
        'OBX|1|NM|ctv^ctv volume^L||512.25|mL||||||F'
    """
    obx = [
        _obx(i, "NM", f"{_clean(name)}^{_clean(name)} volume^L", f"{vol:.2f}", "mL")
        for i, (name, vol) in enumerate(sorted(volumes_ml.items()), start=1)
    ]
    obx.append(_obx(len(obx) + 1, "TX", "STATUS^Segmentation status^L", _clean(status), ""))
    now = _now()
    obr = ["OBR", "1", "", _clean(accession), "ONCOSEG^Auto-contouring^L", "", "", now]
    obr += [""] * 17 + ["F"]  # OBR-8 .. OBR-24 empty, OBR-25 result status
    msh = ["MSH", "^~\\&", _clean(sending), "RT", "EMR", "HOSP", now, ""]
    segments = [
        _seg(*msh, "ORU^R01^ORU_R01", _clean(control_id), "P", "2.5"),
        f"PID|1||{_clean(mrn)}^^^^MR",
        _seg(*obr),
        *obx,
    ]
    return "\r".join(segments) + "\r"
