"""The oncoseg dataset format (nnU-Net v2 raw layout + clinical notes), checks and splits."""
