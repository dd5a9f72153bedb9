"""Reading and writing images, labels and geometry."""
