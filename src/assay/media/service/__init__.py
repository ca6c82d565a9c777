"""Media work on files of the caller's organization: previews and tiles of large images
(`images.py`), video frames (`video.py`), the GrabCut and tracker assists (`assists.py`);
segmentation masks as Scale answers them are core code in `assay/media/masks.py`."""
