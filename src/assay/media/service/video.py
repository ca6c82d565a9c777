"""Video frames decoded on the server with PyAV into a frame cache (JPEG files under
DATA_DIR/media/<org>/<file>/frames/), so the video tool steps frame by frame exactly and
trackers see the same frames. Decoded once, on first request; every frame up to
MAX_FRAMES (a task's `frame_rate` is not used to sample them yet)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from assay.errors import InvalidRequest, NotFound
from assay.media.service.images import cache_dir

MAX_FRAMES = 1000
_lock = threading.Lock()


def _folder(org_public_id: str, file_public_id: str) -> Path:
    return cache_dir(org_public_id, file_public_id) / "frames"


def decode(path: Path, org_public_id: str, file_public_id: str) -> dict[str, Any]:
    """The frame cache's index ({frames, fps, width, height}), decoding the video first
    when it has not been."""
    folder = _folder(org_public_id, file_public_id)
    index = folder / "index.json"
    if index.exists():
        return json.loads(index.read_text())
    with _lock:
        if index.exists():
            return json.loads(index.read_text())
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
                    img.save(folder / f"{count}.jpg", "JPEG", quality=90)
                    count += 1
                    if count >= MAX_FRAMES:
                        break
        except (av.error.FFmpegError, IndexError) as exc:
            raise InvalidRequest(f"attachment: not a video this server can decode ({exc.__class__.__name__})", field="attachment") from None
        info = {"frames": count, "fps": fps, "width": size[0], "height": size[1]}
        index.write_text(json.dumps(info))
        return info


def frame_path(path: Path, org_public_id: str, file_public_id: str, n: int) -> Path:
    info = decode(path, org_public_id, file_public_id)
    if not 0 <= n < info["frames"]:
        raise NotFound("no such frame")
    return _folder(org_public_id, file_public_id) / f"{n}.jpg"


def frame_array(path: Path) -> np.ndarray:
    """An image file as an RGB array, turned as the browser shows it (EXIF orientation)."""
    with Image.open(path) as img:
        return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
