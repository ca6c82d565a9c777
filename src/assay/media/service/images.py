"""Large images made quick to open: a downscaled preview and full-resolution tiles of an
uploaded image, made with Pillow on first request and cached on disk under
DATA_DIR/media/<org>/<file>/. The caller hands in the path of a file it has already
checked (a signed link of the file's own organization); nothing here looks a file up.

Orientation follows the browser: EXIF rotation is applied, so preview, tiles and the
sizes reported agree with the full image as a browser shows it (and with the pixel
coordinates of the answers drawn on it)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from assay.config import get_settings
from assay.errors import NotFound

PREVIEW_MAX = 2048  # the preview's longest side; smaller images are shown as they are
TILE_SIZE = 1024
TRANSPOSED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def cache_dir(org_public_id: str, file_public_id: str) -> Path:
    return get_settings().data_dir / "media" / org_public_id / file_public_id


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _open(path: Path) -> Image.Image:
    try:
        return Image.open(path)
    except (OSError, Image.DecompressionBombError) as exc:
        raise NotFound(f"not an image this server can read ({exc.__class__.__name__})") from None


def image_size(path: Path) -> tuple[int, int]:
    """Width and height as shown (EXIF orientation applied); reads the header only."""
    with _open(path) as img:
        width, height = img.size
        orientation = img.getexif().get(0x0112, 1)
    return (height, width) if orientation in TRANSPOSED else (width, height)


def info(path: Path) -> dict[str, Any]:
    """What the image tool needs to open a picture: its size, and for a large one the
    preview's size and the tile size (tiles are TILE_SIZE squares at full resolution,
    column and row from the top left)."""
    width, height = image_size(path)
    out: dict[str, Any] = {"width": width, "height": height, "preview": None, "tile_size": None}
    if max(width, height) > PREVIEW_MAX:
        k = PREVIEW_MAX / max(width, height)
        out["preview"] = {"width": max(1, round(width * k)), "height": max(1, round(height * k))}
        out["tile_size"] = TILE_SIZE
    return out


def _save(img: Image.Image, target: Path) -> None:
    tmp = target.with_name(target.name + f".{os.getpid()}.{threading.get_ident()}.part")
    img.save(tmp, "JPEG", quality=85) if img.mode in ("RGB", "L") else img.save(tmp, "PNG")
    os.replace(tmp, target)


def _displayable(img: Image.Image) -> Image.Image:
    img = ImageOps.exif_transpose(img)
    if img.mode not in ("RGB", "L", "RGBA", "LA"):
        img = img.convert("RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB")
    return img


def _suffix(img: Image.Image) -> str:
    return ".jpg" if img.mode in ("RGB", "L") else ".png"


def preview(path: Path, org_public_id: str, file_public_id: str) -> Path:
    """The cached preview (made now if missing): the image fitted in PREVIEW_MAX pixels."""
    folder = cache_dir(org_public_id, file_public_id)
    for name in ("preview.jpg", "preview.png"):
        if (folder / name).exists():
            return folder / name
    with _lock(f"{org_public_id}/{file_public_id}/preview"):
        for name in ("preview.jpg", "preview.png"):
            if (folder / name).exists():
                return folder / name
        folder.mkdir(parents=True, exist_ok=True)
        with _open(path) as img:
            img.draft("RGB", (PREVIEW_MAX, PREVIEW_MAX))  # JPEG: decode at a reduced scale (much faster)
            shown = _displayable(img)
            shown.thumbnail((PREVIEW_MAX, PREVIEW_MAX), Image.Resampling.LANCZOS)
            target = folder / f"preview{_suffix(shown)}"
            _save(shown, target)
    return target


def tile(path: Path, org_public_id: str, file_public_id: str, col: int, row: int) -> Path:
    """One cached full-resolution tile. The first request decodes the image once and
    writes every tile, so the rest are served from disk."""
    folder = cache_dir(org_public_id, file_public_id) / "tiles"
    width, height = image_size(path)
    if col < 0 or row < 0 or col * TILE_SIZE >= width or row * TILE_SIZE >= height:
        raise NotFound("no such tile")
    done = folder / "complete"
    if not done.exists():
        with _lock(f"{org_public_id}/{file_public_id}/tiles"):
            if not done.exists():
                make_tiles(path, folder)
    for suffix in (".jpg", ".png"):
        if (folder / f"{col}_{row}{suffix}").exists():
            return folder / f"{col}_{row}{suffix}"
    raise NotFound("no such tile")


def make_tiles(path: Path, folder: Path) -> int:
    """Writes every tile of the image into `folder`; returns how many."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    with _open(path) as img:
        shown = _displayable(img)
        shown.load()
        suffix = _suffix(shown)
        for top in range(0, shown.height, TILE_SIZE):
            for left in range(0, shown.width, TILE_SIZE):
                box = (left, top, min(left + TILE_SIZE, shown.width), min(top + TILE_SIZE, shown.height))
                _save(shown.crop(box), folder / f"{left // TILE_SIZE}_{top // TILE_SIZE}{suffix}")
                count += 1
    (folder / "complete").write_text(str(count))
    return count
