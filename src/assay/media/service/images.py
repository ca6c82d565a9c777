"""Large images made quick to open: a downscaled preview and full-resolution tiles of an
uploaded image, made with Pillow on first request and kept with the file's other media
(`derived.Media`: DATA_DIR/media/<org>/<file>/, and the bucket with object storage), with
the image's facts (`image.json`: size as shown, the format its preview and tiles take) so
that later requests, on any machine, need not read the original again.

Orientation follows the browser: EXIF rotation is applied, so preview, tiles and the
sizes reported agree with the full image as a browser shows it (and with the pixel
coordinates of the answers drawn on it)."""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from assay.errors import NotFound
from assay.media.service.derived import Media

PREVIEW_MAX = 2048  # the preview's longest side; smaller images are shown as they are
TILE_SIZE = 1024
TRANSPOSED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


def _open(path: Path) -> Image.Image:
    try:
        return Image.open(path)
    except (OSError, Image.DecompressionBombError) as exc:
        raise NotFound(f"not an image this server can read ({exc.__class__.__name__})") from None


def _shown_mode(img: Image.Image) -> str:
    """The mode the image is shown in (read from the header): the format of its preview and tiles."""
    if img.mode in ("RGB", "L", "RGBA", "LA"):
        return img.mode
    return "RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB"


def facts(media: Media) -> dict[str, Any]:
    """{width, height, suffix}: the size as shown (EXIF orientation applied) and the file
    suffix of its preview and tiles; read from the original's header once."""

    def read() -> dict[str, Any]:
        with _open(media.original()) as img:
            width, height = img.size
            orientation = img.getexif().get(0x0112, 1)
            suffix = ".jpg" if _shown_mode(img) in ("RGB", "L") else ".png"
        if orientation in TRANSPOSED:
            width, height = height, width
        return {"width": width, "height": height, "suffix": suffix}

    return media.ensure("image.json", read, lambda _: [])


def info(media: Media) -> dict[str, Any]:
    """What the image tool needs to open a picture: its size, and for a large one the
    preview's size and the tile size (tiles are TILE_SIZE squares at full resolution,
    column and row from the top left)."""
    known = facts(media)
    width, height = known["width"], known["height"]
    out: dict[str, Any] = {"width": width, "height": height, "preview": None, "tile_size": None}
    if max(width, height) > PREVIEW_MAX:
        k = PREVIEW_MAX / max(width, height)
        out["preview"] = {"width": max(1, round(width * k)), "height": max(1, round(height * k))}
        out["tile_size"] = TILE_SIZE
    return out


def _save(img: Image.Image, target: Path) -> None:
    """JPEG or PNG as the target's suffix says, written atomically."""
    tmp = target.with_name(target.name + f".{os.getpid()}.{threading.get_ident()}.part")
    img.save(tmp, "JPEG", quality=85) if target.suffix == ".jpg" else img.save(tmp, "PNG")
    os.replace(tmp, target)


def _displayable(img: Image.Image) -> Image.Image:
    img = ImageOps.exif_transpose(img)
    mode = _shown_mode(img)
    return img if img.mode == mode else img.convert(mode)


def _suffix(img: Image.Image) -> str:
    return ".jpg" if img.mode in ("RGB", "L") else ".png"


def preview(media: Media) -> str:
    """The preview's name (made now if missing): the image fitted in PREVIEW_MAX pixels."""

    def make(target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _open(media.original()) as img:
            img.draft("RGB", (PREVIEW_MAX, PREVIEW_MAX))  # JPEG: decode at a reduced scale (much faster)
            shown = _displayable(img)
            shown.thumbnail((PREVIEW_MAX, PREVIEW_MAX), Image.Resampling.LANCZOS)
            _save(shown, target)

    return media.ensure_file(f"preview{facts(media)['suffix']}", make)


def tile(media: Media, col: int, row: int) -> str:
    """One full-resolution tile's name. The first request decodes the image once and
    writes every tile (and publishes them), so the rest are served as they are."""
    known = facts(media)
    width, height = known["width"], known["height"]
    if col < 0 or row < 0 or col * TILE_SIZE >= width or row * TILE_SIZE >= height:
        raise NotFound("no such tile")
    suffix = known["suffix"]
    grid = [(c, r) for r in range(math.ceil(height / TILE_SIZE)) for c in range(math.ceil(width / TILE_SIZE))]
    media.ensure("tiles/complete", lambda: make_tiles(media.original(), media.path("tiles")),
                 lambda _: [f"tiles/{c}_{r}{suffix}" for c, r in grid])
    name = f"tiles/{col}_{row}{suffix}"
    if not media.remote and not media.has(name):
        raise NotFound("no such tile")
    return name


def make_tiles(path: Path, folder: Path) -> int:
    """Writes every tile of the image into `folder`; returns how many (the index that
    says they are complete is the caller's to write)."""
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
    return count
