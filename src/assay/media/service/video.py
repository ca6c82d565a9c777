"""Video frames decoded on the server with PyAV into a frame cache (JPEG files
`frames/<n>.jpg` and their index `frames/index.json` with the file's other media,
`derived.Media`: DATA_DIR/media/<org>/<file>/, and the bucket with object storage), so the
video tool steps frame by frame exactly and trackers see the same frames. Decoded once, on
first request, by one process; every frame up to MAX_FRAMES (a task's `frame_rate` is not
used to sample them yet)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from assay.errors import InvalidRequest, NotFound
from assay.media.service.derived import Media, write_atomic

MAX_FRAMES = 1000
INDEX = "frames/index.json"


def _decode(path: Path, folder: Path) -> dict[str, Any]:
    """Every frame of the video at `path` into `folder`; the index ({frames, fps, width, height})."""
    try:
        import av  # noqa: PLC0415 - optional extra, loaded when a video is decoded
    except ImportError:
        raise InvalidRequest("This server has no PyAV (install the 'vision' extra: pip install 'assay[vision]').", field="attachment") from None
    folder.mkdir(parents=True, exist_ok=True)
    count, fps, size = 0, None, (0, 0)
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate) if stream.average_rate else None
            for frame in container.decode(stream):
                img = frame.to_image()
                size = img.size
                write_atomic(folder / f"{count}.jpg", lambda tmp, img=img: img.save(tmp, "JPEG", quality=90))
                count += 1
                if count >= MAX_FRAMES:
                    break
    except (av.error.FFmpegError, IndexError) as exc:
        raise InvalidRequest(f"attachment: not a video this server can decode ({exc.__class__.__name__})", field="attachment") from None
    return {"frames": count, "fps": fps, "width": size[0], "height": size[1]}


def decode(media: Media) -> dict[str, Any]:
    """The frame cache's index ({frames, fps, width, height}), decoding the video first
    when it has not been (and publishing the frames before the index)."""
    return media.ensure(INDEX, lambda: _decode(media.original(), media.path("frames")),
                        lambda index: [f"frames/{n}.jpg" for n in range(index["frames"])])


def frame(media: Media, n: int) -> str:
    """The name of frame `n` (404 past the last)."""
    if not 0 <= n < decode(media)["frames"]:
        raise NotFound("no such frame")
    return f"frames/{n}.jpg"


def frame_path(media: Media, n: int) -> Path:
    """Frame `n` on this machine (fetched from the store when another machine decoded it)."""
    return media.local(frame(media, n))


def frame_array(path: Path) -> np.ndarray:
    """An image file as an RGB array, turned as the browser shows it (EXIF orientation)."""
    with Image.open(path) as img:
        return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
