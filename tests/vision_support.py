"""Helpers for the vision tools' browser tests: images made with Pillow and uploaded with
the official client, and the image tool's screen ↔ image arithmetic read from the page
(so a test can aim the mouse at image pixels at any zoom)."""

from __future__ import annotations

import importlib
import io

import pytest
from PIL import Image, ImageDraw

from tests.support import IN_CI

VIEW = "document.querySelector('.tool').iaView"


def require_vision(module: str) -> None:
    """OpenCV (cv2) or PyAV (av), from the optional `vision` extra: a test without it is
    skipped with the reason, except in CI, where the extra is installed and its absence
    is a failure."""
    try:
        importlib.import_module(module)
    except ImportError:
        reason = f"{module} is missing: install the 'vision' extra (pip install -e '.[vision]')"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)


def image_bytes(width: int, height: int, rects: list[tuple[int, int, int, int]] = (), fmt: str = "PNG", color=(90, 120, 160)) -> bytes:
    """A plain image with filled rectangles (x, y, w, h)."""
    img = Image.new("RGB", (width, height), (225, 230, 236))
    draw = ImageDraw.Draw(img)
    for x, y, w, h in rects:
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill=color)
    out = io.BytesIO()
    img.save(out, fmt, quality=90) if fmt == "JPEG" else img.save(out, fmt)
    return out.getvalue()


def upload(client, tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with path.open("rb") as f:
        return client.upload_file(f).attachment_url


def wait_image(page, width: int) -> None:
    page.wait_for_function(f"w => {VIEW} && {VIEW}.image.width === w", arg=width)


def view(page) -> dict:
    """The stage's place on the page and the view's transform."""
    return page.evaluate(f"""() => {{ const r = document.querySelector('.ia-stage').getBoundingClientRect(); const v = {VIEW};
        return {{left: r.left, top: r.top, scale: v.scale, x: v.x, y: v.y}}; }}""")


def to_page(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates (for page.mouse) of image point (x, y), whole page pixels."""
    v = view(page)
    return round(v["left"] + v["x"] + x * v["scale"]), round(v["top"] + v["y"] + y * v["scale"])


def to_image(page, px: float, py: float) -> tuple[float, float]:
    """The image point under page point (px, py), as the tool computes and stores it."""
    v = view(page)
    return round((px - v["left"] - v["x"]) / v["scale"], 2), round((py - v["top"] - v["y"]) / v["scale"], 2)


def drag(page, a: tuple[float, float], b: tuple[float, float], steps: int = 5) -> None:
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move(*b, steps=steps)
    page.mouse.up()


def click(page, p: tuple[float, float], modifier: str | None = None) -> None:
    if modifier:
        page.keyboard.down(modifier)
    page.mouse.click(*p)
    if modifier:
        page.keyboard.up(modifier)
