"""RTSTRUCT of one OpenKBP test patient, read back by plastimatch, against our NIfTI output."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import SimpleITK as sitk

out, ct, nifti_mask = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
rt = next(out.glob("*rtstruct*.dcm"), None) or next(p for p in out.glob("*.dcm") if "rt" in p.name.lower())
pm = out / "plastimatch"
subprocess.run(["plastimatch", "convert", "--input", str(rt), "--referenced-ct", str(ct),
                "--output-prefix", str(pm), "--prefix-format", "nii.gz"], check=True, capture_output=True)
ours = sitk.ReadImage(str(nifti_mask))
labels = {"PTV70": 1, "PTV63": 2, "PTV56": 3}
res = {"rtstruct": rt.name}
for name, v in labels.items():
    f = pm / f"{name}.nii.gz"
    if not f.exists():
        res[name] = "absent from the RTSTRUCT"
        continue
    theirs = sitk.Resample(sitk.ReadImage(str(f)), ours, sitk.Transform(), sitk.sitkNearestNeighbor)
    a = sitk.GetArrayFromImage(ours) == v
    b = sitk.GetArrayFromImage(theirs) > 0
    d = 2 * (a & b).sum() / max(1, a.sum() + b.sum()) if a.sum() + b.sum() else 1.0
    res[name] = {"voxels_ours": int(a.sum()), "voxels_plastimatch": int(b.sum()), "dice": round(float(d), 4)}
print(json.dumps(res, indent=1))
