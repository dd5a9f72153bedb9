"""Training: the trainer (loop, DDP), checkpoint writing, validation Dice.

The run configuration it reads lives in :mod:`oncoseg.infer.config`, next to the code that
rebuilds a model from a run folder."""
