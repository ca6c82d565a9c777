"""Media work on files of the caller's organization: previews and tiles of large images
(`images.py`), video frames (`video.py`), where those lie — the data directory, and the
bucket with object storage (`derived.py`) — the GrabCut and tracker assists (`assists.py`);
segmentation masks as Scale answers them are core code in `assay/media/masks.py`."""
