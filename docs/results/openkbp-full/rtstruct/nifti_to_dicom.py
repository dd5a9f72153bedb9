"""Write a NIfTI CT as a DICOM CT series (one file per slice) with SimpleITK."""
import sys
import time
from pathlib import Path

import SimpleITK as sitk

src, out = sys.argv[1], Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
img = sitk.Cast(sitk.ReadImage(src), sitk.sitkInt16)
writer = sitk.ImageFileWriter()
writer.KeepOriginalImageUIDOn()
uid = "1.2.826.0.1.3680043.8.498." + str(int(time.time() * 1000))
direction = img.GetDirection()
iop = "\\".join(str(v) for v in (direction[0], direction[3], direction[6], direction[1], direction[4], direction[7]))
for k in range(img.GetDepth()):
    sl = img[:, :, k]
    for tag, value in {
        "0008|0060": "CT",
        "0008|0016": "1.2.840.10008.5.1.4.1.1.2",
        "0020|000d": uid + ".1",
        "0020|000e": uid + ".2",
        "0020|0052": uid + ".3",
        "0008|0018": f"{uid}.4.{k + 1}",
        "0010|0010": "OpenKBP^Test",
        "0010|0020": Path(src).name.split("_0000")[0],
        "0020|0013": str(k + 1),
        "0020|0032": "\\".join(str(v) for v in img.TransformIndexToPhysicalPoint((0, 0, k))),
        "0020|0037": iop,
        "0008|0008": "ORIGINAL\\PRIMARY\\AXIAL",
        "0008|0070": "OpenKBP (converted)",
        "0018|0050": str(img.GetSpacing()[2]),
        "0018|0060": "",
        "0018|5100": "HFS",
        "0020|0012": "1",
        "0020|0060": "",
        "0020|1040": "",
        "0028|1052": "0",
        "0028|1053": "1",
    }.items():
        sl.SetMetaData(tag, value)
    writer.SetFileName(str(out / f"ct_{k:04d}.dcm"))
    writer.Execute(sl)
print(out, img.GetSize())
