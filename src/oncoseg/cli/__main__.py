"""``python -m oncoseg.cli`` (e.g. under ``torchrun``)."""

from oncoseg.cli.app import main

if __name__ == "__main__":  # not when a spawned child process imports this module
    main()
