"""Narrative notes for breast cases: paraphrase, abbreviations, negation and distractors.

The facts that decide the CTV (side, surgery, nodal status, T when N1mi) are always stated;
wording, order and irrelevant facts vary with the seed. Distractors may mention the other
side of the body in an unrelated context ("right knee replacement"), as real notes do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from oncoseg.tasks.breast_ctv.clinical import BreastClinical
from oncoseg.text.templates import clinical_field, raw_note

NOTE_STYLES = ("prompt", "narrative", "raw")
# the seed's prompt template: "{N}, {surgery}, {side} side"
SURGERY_TEXT = {"BCS": "breast conserving surgery", "mastectomy": "total mastectomy"}
SIDE_WORDS = {"left": ("left", "Lt", "L"), "right": ("right", "Rt", "R")}
PATHOLOGY_TEXT = {
    "IDC": ("invasive ductal carcinoma", "IDC", "invasive carcinoma NST"),
    "ILC": ("invasive lobular carcinoma", "ILC", "lobular carcinoma"),
    "DCIS": ("ductal carcinoma in situ", "DCIS", "high-grade DCIS"),
}
NODES = {
    "N0": (
        "No nodal involvement.",
        "Sentinel nodes negative ({k}/{k}).",
        "Axillary nodes clear, no metastatic disease in {k} nodes.",
        "pN0 (0/{k}).",
    ),
    "N1mi": (
        "Micrometastasis ({mm} mm) in 1 of {k} sentinel nodes.",
        "Sentinel node: micrometastatic deposit only ({mm} mm), 1/{k}.",
        "pN1mi (1/{k}).",
    ),
    "N1": (
        "Metastatic carcinoma in {p} of {k} axillary lymph nodes.",
        "{p}/{k} nodes positive.",
        "pN1 ({p}/{k}), no extranodal extension.",
    ),
    "N2": (
        "Metastases in {p} of {k} axillary nodes.",
        "{p}/{k} lymph nodes involved.",
        "pN2a ({p}/{k}).",
    ),
    "N3": (
        "Extensive nodal disease: {p}/{k} nodes, including level III.",
        "{p} of {k} nodes positive with infraclavicular involvement.",
        "pN3a ({p}/{k}).",
    ),
}
POSITIVE_COUNTS = {"N0": (0, 0), "N1mi": (1, 1), "N1": (1, 3), "N2": (4, 9), "N3": (10, 16)}
DISTRACTORS = (
    "History of hypertension, well controlled.",
    "Non-smoker.",
    "Allergic to penicillin.",
    "Type 2 diabetes on metformin.",
    "{other} knee replacement in 2015.",
    "Previous {other}-sided wrist fracture.",
    "Mother had breast cancer at 60.",
    "ECOG performance status 0.",
    "Hypothyroidism on levothyroxine.",
    "No cardiac history.",
    "Mild osteoarthritis of the {other} hip.",
)


def breast_prompt(row: Mapping[str, Any]) -> str:
    """The seed's structured prompt for a breast case: ``"N2, total mastectomy, left side"``:
    the N stage as written, the surgery spelled out, the laterality (``both`` gives
    ``"both sides"``).

    For N1mi the T stage is added (``"T3 N1mi, ..."``): the CTV rule treats the nodes of an
    N1mi case only with T3/T4, so without T the prompt would not decide the target.
    """
    surgery = clinical_field(row, "surgery")
    if surgery not in SURGERY_TEXT:
        raise ValueError(f"field 'surgery' must be one of {sorted(SURGERY_TEXT)}, got {surgery!r}")
    side = clinical_field(row, "laterality")
    side_text = "both sides" if side == "both" else f"{side} side"
    n_stage = clinical_field(row, "n_stage")
    if n_stage == "N1mi":  # whether N1mi is treated depends on T (the rule table): state it
        n_stage = f"{clinical_field(row, 't_stage')} {n_stage}"
    return f"{n_stage}, {SURGERY_TEXT[surgery]}, {side_text}"


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _side_phrase(c: BreastClinical, rng: np.random.Generator) -> str:
    if c.laterality == "both":
        return _pick(rng, ("bilateral", "synchronous bilateral"))
    return _pick(rng, SIDE_WORDS[c.laterality])


def _surgery_sentence(c: BreastClinical, side: str, rng: np.random.Generator) -> str:
    if c.surgery == "BCS":
        s = _pick(
            rng,
            (
                "Underwent wide local excision with sentinel node biopsy.",
                "s/p {side} lumpectomy and SLNB.",
                "Breast-conserving surgery performed.",
                "Treated with BCS, margins clear.",
            ),
        )
        if c.clips:
            s += " Tumour bed marked with clips."
    else:
        s = _pick(
            rng,
            (
                "Underwent {side} total mastectomy.",
                "s/p {side} mastectomy and ALND.",
                "Mastectomy performed, no reconstruction.",
            ),
        )
    return s.format(side=side)


def _node_sentence(c: BreastClinical, rng: np.random.Generator) -> str:
    lo, hi = POSITIVE_COUNTS[c.n_stage]
    return _pick(rng, NODES[c.n_stage]).format(
        k=int(rng.integers(max(hi, 2), 22)),
        p=int(rng.integers(lo, hi + 1)),
        mm=round(float(rng.uniform(0.3, 1.9)), 1),
    )


def narrative_note(c: BreastClinical, rng: np.random.Generator) -> str:
    """A free-text note stating every CTV-relevant fact, in varied wording."""
    side = _side_phrase(c, rng)
    path = _pick(rng, PATHOLOGY_TEXT[c.pathology])
    opening = _pick(
        rng,
        (
            "{age}-year-old woman with {side} breast {path}, {t}{n}M0.",
            "{age}F, {side} breast ca ({path}), p{t} p{n}.",
            "Patient, {age} y, diagnosed with {side} breast {path}; {t} {n}.",
        ),
    )
    sentences = [_surgery_sentence(c, side, rng), _node_sentence(c, rng)]
    if c.chemotherapy:
        sentences.append(
            _pick(
                rng,
                ("Received adjuvant chemotherapy (AC-T).", "Completed neoadjuvant chemotherapy."),
            )
        )
    else:
        sentences.append(_pick(rng, ("No chemotherapy.", "Chemotherapy not indicated.")))
    other = "left" if c.laterality == "right" else "right"
    k = int(rng.integers(0, 3))
    picks = rng.choice(len(DISTRACTORS), size=k, replace=False)
    sentences += [DISTRACTORS[int(i)].format(other=other) for i in picks]
    rng.shuffle(sentences)
    closing = _pick(
        rng,
        ("Referred for adjuvant radiotherapy.", "Plan: adjuvant RT.", "For radiotherapy planning."),
    )
    text = " ".join(
        [
            opening.format(age=c.age, side=side, path=path, t=c.t_stage, n=c.n_stage),
            *sentences,
            closing,
        ]
    )
    return text[0].upper() + text[1:]


def make_note(c: BreastClinical, style: str, rng: np.random.Generator) -> str:
    """The note of one case in ``style`` (one of ``NOTE_STYLES``)."""
    row = c.row()
    if style == "prompt":
        return breast_prompt(row)
    if style == "raw":
        return raw_note(row, list(row))
    if style == "narrative":
        return narrative_note(c, rng)
    raise ValueError(f"note style must be one of {NOTE_STYLES}, got {style!r}")
