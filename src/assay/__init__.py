"""assay: an open, self-hostable data engine for training data."""

__version__ = "0.1.0"
