"""Residual 3D U-Net, text-image fusion modules and the note-guided model."""

from oncoseg.models.monai_import import import_monai

import_monai()  # before any model module's "from monai ...": see monai_import
