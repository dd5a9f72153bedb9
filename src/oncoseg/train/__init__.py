"""Training: configs, data pipeline, the loop, checkpoints, distributed training."""
