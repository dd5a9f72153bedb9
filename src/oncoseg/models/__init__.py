"""Residual 3D U-Net, text-image fusion modules and the note-guided model."""
