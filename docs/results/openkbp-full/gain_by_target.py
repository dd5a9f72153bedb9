"""How each target makes up the gain in mean Dice over each patient's prescribed targets.

Run from the repository root with the converted data in runs/data/openkbp:
`python docs/results/openkbp-full/gain_by_target.py > gain_by_target.txt`. Reads only the
committed per-case CSVs (seedK/cases) and the prescriptions (clinical.csv). A patient's gain
is the mean of their per-target differences (note-guided − vision-only), so target t adds
(1/83) * sum over patients prescribed t of diff_t / (number of targets the patient has).
"""

import csv
from collections import defaultdict

HERE = "docs/results/openkbp-full"
TARGETS = ("PTV70", "PTV63", "PTV56")

with open("runs/data/openkbp/clinical.csv", encoding="utf-8") as f:
    rx = {r["case"]: [t for t in TARGETS if r[t] == "yes"] for r in csv.DictReader(f)}


def dice(seed: int, model: str) -> dict[tuple[str, str], float]:
    with open(f"{HERE}/seed{seed}/cases/{model}_internal.csv", encoding="utf-8") as f:
        return {(r["case"], r["class"]): float(r["dice"]) for r in csv.DictReader(f)}


for seed in (0, 1):
    note, vision = dice(seed, "multimodal"), dice(seed, "vision")
    cases = sorted({c for c, _ in note})
    part: dict[str, float] = defaultdict(float)
    groups: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for c in cases:
        for t in rx[c]:
            part[t] += (note[c, t] - vision[c, t]) / len(rx[c]) / len(cases)
        groups[tuple(rx[c])].append(note[c, "PTV70"] - vision[c, "PTV70"])
    total = sum(part.values())
    shares = ", ".join(f"{t} {part[t]:+.4f}" for t in TARGETS)
    print(f"seed {seed}: gain {total:+.4f} = {shares}")  # noqa: T201 (a script's output)
    for g, d in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        mean = sum(d) / len(d)
        print(f"  PTV70 difference in patients prescribed {'+'.join(g)} (n={len(d)}): {mean:+.3f}")  # noqa: T201
