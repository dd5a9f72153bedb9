"""The breast note reader's general rules, each on notes written for it (not taken from the
held-out sets): side words tied to this cancer only, the surgery named or implied by the target,
the nodal status as staged, counted (also in words) or said, and the plan when nothing else."""

from __future__ import annotations

import pytest

from oncoseg.tasks.breast_ctv.reader import read_breast_note

SIDE = [
    # abbreviations, structure names, quadrant codes, clock positions, fields
    ("lt. breast, lumpectomy, 0/3 SLN. Tangents only.", "left"),
    ("Order: adjuvant RT, Rt WBI 26Gy/5. SLNB 0/4.", "right"),
    ("Plan LT_BREAST: WBI (no SCF). Hx: lumpectomy, node-negative.", "left"),
    ("Plan RT_BREAST: WBI (no SCF). Hx: lumpectomy, node-negative.", "right"),
    ("CTV_Breast_R, no nodal CTVs; post lumpectomy; pN0", "right"),
    ("LUOQ tumour excised (WLE). 5 of 17 nodes involved.", "left"),
    ("R UOQ IDC, BCS, SLNB negative, whole breast only", "right"),
    ("Right 10 o'clock tumour, WLE, SLNB 0/2.", "right"),
    ("IDC, right, 3 cm, s/p WLE, 6/8 LN positive.", "right"),
    ("Laterality - Right. Surgery - wide local excision. Nodes - 0/5.", "right"),
    ("Dx: R. breast IDC, s/p WLE, SLNB 0/2.", "right"),
    ("Right mastectmy, nodes 0/3, chest wall RT.", "right"),
    ("Pt set up for left tangents. Path: node negative.", "left"),
    ("Surgery: [ ] BCS [x] Mastectomy | Side: [ ] L [x] R | pN2a", "right"),
    # the other side in another context does not flip it
    ("Left lumpectomy for IDC, benign right breast cyst aspirated 2019, SLNB 0/2.", "left"),
    ("Left breast cancer, lumpectomy, nodes negative, normal mammogram on the right.", "left"),
    ("Right breast lumpectomy. Left breast imaging normal. LN 0/2.", "right"),
    ("Contralateral (left) mammogram normal. Right breast cancer s/p BCS, pN1 (2/11).", "right"),
    ("Mrs R had a lumpectomy on the left; nodes clear; whole breast RT.", "left"),
    ("Mrs L. Jones, 60, had a right lumpectomy; node negative.", "right"),
    ("Started letrozole right after her left lumpectomy. pN0(sn). WBI.", "left"),
    ("She left the breast clinic after agreeing to right breast RT following WLE.", "right"),
    ("Bloods from the left arm only. Right breast lumpectomy with 4/7 positive nodes.", "right"),
    ("Left partial mastectomy. Sister had bilateral mastectomies. SLNB clear.", "left"),
    ("Please note laterality: LEFT breast, NOT right. WLE done.", "left"),
    ("Initially lumpectomy, then completion mastectomy for positive margins (right).", "right"),
]


@pytest.mark.parametrize(("note", "side"), SIDE)
def test_side(note: str, side: str) -> None:
    assert read_breast_note(note).fields.get("side") == side


SURGERY = [
    # named operations
    ("Left breast tumourectomy with axillary clearance.", "BCS"),
    ("Procedure: therapeutic mammoplasty, left breast.", "BCS"),
    ("Right breast cancer, treated with wide excision.", "BCS"),
    ("Lt BCT. Axillary nodes: 6 of 10 positive.", "BCS"),
    ("Left early breast cancer, conserved.", "BCS"),
    ("Right MRM, pT3 pN3a (12/20). Chest wall + nodal RT.", "mastectomy"),
    ("Lt skin-sparing mastectomy with implant reconstruction; PMRT.", "mastectomy"),
    ("Right mastectmy, nodes 0/3, chest wall RT.", "mastectomy"),
    # a mastectomy that did not happen, or was someone else's
    ("Declined mastectomy; had left lumpectomy; nodes 0/2", "BCS"),
    ("Right breast WLE; she would like to avoid mastectomy.", "BCS"),
    ("Right WLE. Her mother had a mastectomy for breast cancer. 0/3 SLN.", "BCS"),
    # BCS then completion mastectomy: the later one
    ("Initially lumpectomy, then completion mastectomy for positive margins.", "mastectomy"),
    # no operation named: the target decides
    ("CT sim booked. Breast: LEFT. SNB clear -> CTV breast.", "BCS"),
    ("Telephone: the left breast wound has healed; radiotherapy to the breast only.", "BCS"),
    ("RTT note: Rt breast set-up with SCF match (N2).", "BCS"),
    ("Plan the left breast: tangents, whole breast to the chest wall.", "BCS"),
    ("Left chest wall + SCF, 4 positive nodes", "mastectomy"),
    ("Site: [x] Breast [ ] Chest wall | Side: [x] L", "BCS"),
]


@pytest.mark.parametrize(("note", "surgery"), SURGERY)
def test_surgery(note: str, surgery: str) -> None:
    assert read_breast_note(note).fields.get("surgery") == surgery


NODES = [
    # stated stages: pathological after clinical, fields, inside TNM
    ("Right WLE, cT2 cN1, post-NACT ypN0 (0/4). Breast only.", "N0"),
    ("Left WLE, cN0, SLNB 2/3 macrometastases.", "N1"),
    ("Stage pT1cN0(sn), left BCS.", "N0"),
    ("Right BCS, T2N2aM0.", "N2"),
    ("Referral: Side=L. N-stage=N2 (4/10 LN+).", "N2"),
    ("Organ: breast (left). Pathological N: 0. Nodal RT: no.", "N0"),
    ("Organ: breast (left). Pathological N: 2a (8 positive). Nodal RT: yes.", "N2"),
    ("Right WLE, pN1mi (sn), pT1c, breast only.", "N1mi"),
    ("Left WLE, N0(i+), whole breast.", "N0"),
    # counts, in digits or words, next to the nodes
    ("Left WLE, ALND: five of twelve nodes involved.", "N2"),
    ("Sentinel nodes nought out of two.", "N0"),
    ("right lumpectomy, sentinel nodes: zero of four involved; WBI", "N0"),
    ("L WLE. Nodes 7+/12. RT: tangents + SCF/axilla.", "N2"),
    ("Lt breast ca, s/p WLE, 4+ nodes, RNI", "N2"),
    ("9 nodes involved on clearance -> CTV breast + nodal CTVs.", "N2"),
    ("Axilla heavily involved, 8 nodes.", "N2"),
    ("Because 7 of your lymph nodes had cancer, we will treat the nodes.", "N2"),
    ("Left breast BCS done. Nodes positive x5 on clearance.", "N2"),
    ("Side: left | Nodes: 6 positive of 13", "N2"),
    ("Left WLE. Nodal status: pN3a (11/18).", "N3"),
    ("Lt WLE; SLNB 3/3 positive then ALND 2/10 more; total 5/13.", "N2"),
    ("Left WLE. LN+: 5. Plan WB + SCF.", "N2"),
    ("Right WLE. Positive nodes: 2 (of 14).", "N1"),
    ("Right WLE. Macrometastasis in 2 nodes.", "N1"),
    # counts that are not node counts
    ("Left WLE, grade 3/3, Nottingham 8/9, SNB 0/3.", "N0"),
    ("Right breast-conserving surgery. ER 8/8, PR 6/8, HER2 neg. Nodes 0/3.", "N0"),
    ("Lumpectomy 3/11. SLNB on 9/14: sentinel node negative.", "N0"),
    ("Right WLE; axillary nodes 4/12, ER negative, HER2 negative.", "N2"),
    # the status in words
    ("L WLE + SNB: sentinel nodes negative (3/3).", "N0"),
    ("Sentinel lymph nodes x2 negative.", "N0"),
    ("Right WLE, 2 sentinel nodes removed, both negative.", "N0"),
    ("Breast cancer, left side. Lumpectomy. Lymph nodes: not involved.", "N0"),
    ("We reviewed her pathology: no cancer in the lymph nodes.", "N0"),
    ("Portal: none of your lymph nodes had cancer.", "N0"),
    ("Axillary surgery showed no nodal disease.", "N0"),
    ("Left WLE. Nodal status: negative.", "N0"),
    ("Left WLE. 0 nodes positive. WBI.", "N0"),
    ("L WLE. Sentinel node: isolated tumour cells only.", "N0"),
]


@pytest.mark.parametrize(("note", "n_stage"), NODES)
def test_nodal_status(note: str, n_stage: str) -> None:
    assert read_breast_note(note).fields.get("n_stage") == n_stage


PLAN = [  # no status written: the plan gives a representative stage (N2 treated, N0 not)
    ("Left breast after lumpectomy, please plan tangents plus supraclavicular field.", "N2"),
    ("Right breast after lumpectomy, please plan tangents only.", "N0"),
    ("Plan: L breast + SCF/ax after WLE.", "N2"),
    ("Right breast, post lumpectomy: treat breast, supraclavicular fossa and IMC.", "N2"),
    ("Left breast, post lumpectomy: no regional nodal irradiation required.", "N0"),
    ("Please plan the right breast after WLE; the axilla does not need treatment.", "N0"),
    ("Left WLE. Regional nodal irradiation: not indicated.", "N0"),
    ("Left WLE. Regional nodal irradiation: indicated.", "N2"),
    ("Left WLE. Plan WBI (no SCF, IMC or axilla).", "N0"),
    ("Left WLE. Plan WB + SCF + ax, no IMN.", "N2"),
    ("Left WLE. Nodal: [x] Nil [ ] SCV [ ] Ax [ ] IMN", "N0"),
    ("Left WLE. Breast and regional lymphatics.", "N2"),
    ("Left WLE; regional nodes to be treated.", "N2"),
    ("Left WLE; 4-field technique incl. periclavicular.", "N2"),
]


@pytest.mark.parametrize(("note", "n_stage"), PLAN)
def test_plan_when_no_status(note: str, n_stage: str) -> None:
    assert read_breast_note(note).fields.get("n_stage") == n_stage


def test_evidence_names_the_deciding_words() -> None:
    reading = read_breast_note("Hx right hip replacement. Lt WLE. Four of eleven nodes positive.")
    assert reading.fields == {"side": "left", "surgery": "BCS", "n_stage": "N2"}
    assert reading.evidence == {"side": "Lt WLE", "surgery": "WLE", "n_stage": "Four of eleven"}
    assert reading.canonical == "N2, breast conserving surgery, left side"


def test_note_without_surgery_reports_it_missing() -> None:
    reading = read_breast_note("Referral: post-op RT. Side=L. N-stage=N0. Nodes not treated.")
    assert reading.fields == {"side": "left", "n_stage": "N0"}
    assert reading.missing() == ["surgery"]
