"""``python -m oncoseg.cli`` (e.g. under ``torchrun``)."""

from oncoseg.cli.app import main

main()
