"""Where the note-guided model puts the true PTV63 of the test patients prescribed one.

Run from the repository root after `oncoseg experiment counterfactual --config
configs/openkbp_full_cpu.yaml --seeds 0,1 -o runs/openkbp-full-seeds` (which saves the
predictions): `python docs/results/openkbp-full/ptv63_confusion.py > ptv63_confusion.txt`.
Labels: 0 background, 1 PTV70, 2 PTV63, 3 PTV56.
"""

import csv

import nibabel as nib
import numpy as np

DATA = "runs/data/openkbp"
RUN = "runs/openkbp-full-seeds"

with open(f"{DATA}/clinical.csv", encoding="utf-8") as f:
    cases = [r["case"] for r in csv.DictReader(f) if r["split"] == "Ts" and r["PTV63"] == "yes"]
for seed in (0, 1):
    counts, drawn, true = np.zeros(4), 0, 0
    for case in cases:
        truth = np.asarray(nib.load(f"{DATA}/labelsTs/{case}.nii.gz").dataobj)
        pred = np.asarray(
            nib.load(f"{RUN}/seed{seed}/predictions/multimodal/internal/{case}.nii.gz").dataobj
        )
        inside = truth == 2
        counts += np.bincount(pred[inside].astype(int), minlength=4)[:4]
        drawn, true = drawn + int((pred == 2).sum()), true + int(inside.sum())
    share = counts / counts.sum()
    print(  # noqa: T201 (a script: its output is the result)
        f"seed {seed}, {len(cases)} patients: true PTV63 voxels labelled background "
        f"{share[0]:.3f}, PTV70 {share[1]:.3f}, PTV63 {share[2]:.3f}, PTV56 {share[3]:.3f}; "
        f"PTV63 drawn / true volume {drawn / true:.3f}"
    )
