"""The vision workbench, measured: how long an image task takes to first paint (a 40 MP
and a 2 MP photo, server and browser together, Playwright's wall clock from navigation to
the picture on screen), frame times while dragging one box among 500 on a 2 MP image, the
cost of making a preview and tiles (Pillow), and how many frames a second the trackers
follow an object (OpenCV CSRT, KCF, MIL).

    python bench/vision.py [--runs 5] [--shapes 500] [--skip-browser]

Starts a real `assay serve` (SQLite, fresh data dir) and Debian's Chromium. Writes
bench/results/vision.json."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "vision.json"
SIZES = {"40MP": (7744, 5164), "2MP": (1732, 1155)}


def photo(width: int, height: int) -> bytes:
    """A JPEG with gradients and shapes (compresses like a photo more than a flat image)."""
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    rgb = np.stack([np.broadcast_to(x, (height, width)), np.broadcast_to(y, (height, width)),
                    (np.sin(x / 9) * np.cos(y / 7) * 127 + 128)], axis=2).astype(np.uint8)
    # sensor-like noise: a real 40 MP photo is a 10-20 MB JPEG, not a smooth gradient
    noise = np.random.default_rng(0).integers(-12, 13, size=(height, width, 1), dtype=np.int16)
    rgb = np.clip(rgb.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    img = Image.fromarray(rgb)
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(1)
    for _ in range(60):
        x0, y0 = int(rng.integers(0, width - 50)), int(rng.integers(0, height - 50))
        draw.rectangle([x0, y0, x0 + int(rng.integers(20, width // 8)), y0 + int(rng.integers(20, height // 8))],
                       fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88)
    return out.getvalue()


def median(values):
    return round(statistics.median(values), 4) if values else None


def p95(values):
    return round(float(np.percentile(values, 95)), 3) if values else None


# ----------------------------------------------------------------------------- in process

def preview_and_tiles(images: dict[str, bytes], runs: int) -> dict:
    """Seconds to make the preview and all tiles of each image (a fresh cache each run)."""
    from assay.config import get_settings
    from assay.media.service import images as media
    from assay.media.service.derived import Media

    out = {}
    for name, data in images.items():
        pre, tiles, counts = [], [], []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                os.environ["ASSAY_DATA_DIR"] = tmp
                get_settings.cache_clear()
                path = Path(tmp) / "files" / "bench" / name  # where an uploaded file of organization "bench" lies
                path.parent.mkdir(parents=True)
                path.write_bytes(data)
                t = time.perf_counter()
                media.preview(Media("bench", name))
                pre.append(time.perf_counter() - t)
                t = time.perf_counter()
                counts.append(media.make_tiles(path, Path(tmp) / "tiles"))
                tiles.append(time.perf_counter() - t)
        out[name] = {"bytes": len(data), "preview_seconds_median": median(pre), "tiles_seconds_median": median(tiles), "tiles": counts[0], "runs": runs}
        print(f"{name}: preview {median(pre):.3f} s, {counts[0]} tiles {median(tiles):.3f} s ({len(data) / 1e6:.1f} MB JPEG)")
    return out


def tracker_fps(frames: int = 120, size: tuple[int, int] = (640, 480)) -> dict:
    from assay.media.service import assists

    w, h = size
    video = []
    for k in range(frames):
        f = np.full((h, w, 3), 200, np.uint8)
        x = 40 + 3 * k
        f[180:260, x: x + 80] = (180, 40, 40)
        f[200:220, x + 20: x + 40] = (20, 20, 20)
        video.append(f)
    out = {}
    for method in ("csrt", "kcf", "mil"):
        t = time.perf_counter()
        boxes = assists.track(video, {"left": 40, "top": 180, "width": 80, "height": 80}, method)
        seconds = time.perf_counter() - t
        last = boxes[-1]
        out[method] = {"frames": frames - 1, "fps": round((frames - 1) / seconds, 1), "frame_size": f"{w}x{h}",
                       "last_box_error_px": None if last is None else round(abs(last["left"] - (40 + 3 * (frames - 1))), 1)}
        print(f"tracker {method}: {out[method]['fps']} frames/s on {w}x{h} ({frames - 1} frames)")
    return out


# ----------------------------------------------------------------------------- in the browser

def browser_figures(images: dict[str, bytes], runs: int, n_shapes: int) -> dict:
    from playwright.sync_api import sync_playwright
    from scaleapi.tasks import TaskType

    from tests.browser import CHROMIUM, Org, login
    from tests.support import Server

    tmp = Path(tempfile.mkdtemp(prefix="bench-vision-"))
    server = Server(data_dir=tmp / "data", database_url="").start()
    try:
        client = server.client()
        org = Org(server)
        geometries = {"box": {"objects_to_annotate": ["thing"]}}
        out: dict = {"first_paint": {}, "drag": None}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for name, data in images.items():
                project = f"paint {name}"
                client.create_project(project_name=project, task_type=TaskType.ImageAnnotation, params={"instruction": "Boxes."})
                pid = org.project_id(project)
                url = client.upload_file(io.BytesIO(data)).attachment_url
                client.create_task(TaskType.ImageAnnotation, project=project, attachment=url, geometries=geometries)
                person = org.person("annotator")
                org.add_member(pid, person)
                times = []
                for _ in range(runs):
                    context = browser.new_context(viewport={"width": 1280, "height": 800})  # a cold browser cache each run
                    page = context.new_page()
                    login(page, server, person)
                    t = time.perf_counter()
                    page.goto(f"{server.url}/label/{pid}")
                    page.wait_for_function("() => { const i = document.querySelector('.ia-base'); return i && i.complete && i.naturalWidth > 0 }",
                                           timeout=120_000)
                    times.append(time.perf_counter() - t)
                    context.close()
                out["first_paint"][name] = {"seconds_first": round(times[0], 3), "seconds_median": median(times[1:] or times), "runs": runs,
                                            "note": "each run a fresh browser context (no HTTP cache); the first run also makes the preview on the server "
                                                    "(images over 2048 px only), later runs find it cached"}
                print(f"first paint {name}: first {times[0]:.3f} s, then median {median(times[1:] or times):.3f} s")
            out["drag"] = drag_frames(browser, client, org, server, images["2MP"], n_shapes)
            browser.close()
        return out
    finally:
        server.stop()


def drag_frames(browser, client, org, server, data: bytes, n_shapes: int) -> dict:
    """Drag one box among n_shapes for 240 mouse moves; frame intervals from
    requestAnimationFrame, and the repaint work per move measured inside the page."""
    from scaleapi.tasks import TaskType

    from tests.browser import login

    rng = np.random.default_rng(5)
    boxes = [{"uuid": f"b{i}", "type": "box", "label": "thing", "left": float(rng.integers(0, 1600)), "top": float(rng.integers(0, 1050)),
              "width": float(rng.integers(10, 120)), "height": float(rng.integers(10, 100))} for i in range(n_shapes)]
    boxes[-1].update(left=800, top=500, width=150, height=120)  # the one dragged, on top
    project = "drag 500"
    client.create_project(project_name=project, task_type=TaskType.ImageAnnotation, params={"instruction": "Boxes."})
    pid = org.project_id(project)
    url = client.upload_file(io.BytesIO(data)).attachment_url
    client.create_task(TaskType.ImageAnnotation, project=project, attachment=url, geometries={"box": {"objects_to_annotate": ["thing"]}},
                       hypothesis={"annotations": boxes})
    person = org.person("annotator")
    org.add_member(pid, person)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    login(page, server, person)
    page.goto(f"{server.url}/label/{pid}")
    page.wait_for_function("() => { const v = document.querySelector('.tool')?.iaView; return v && v.image.width > 0 && document.querySelectorAll('.ia-shape').length > 0 }")
    page.keyboard.press("v")
    page.evaluate("""() => {
      const stage = document.querySelector('.tool').iaStage;
      window.benchWork = []; window.benchFrames = []; window.benchOn = true;
      const paint = stage.paintShape.bind(stage);
      stage.paintShape = (uuid) => { const t = performance.now(); paint(uuid); window.benchWork.push(performance.now() - t); };
      let last = performance.now();
      const tick = (now) => { if (!window.benchOn) return; window.benchFrames.push(now - last); last = now; requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    }""")
    v = page.evaluate("""() => { const r = document.querySelector('.ia-stage').getBoundingClientRect(); const v = document.querySelector('.tool').iaView;
      return {left: r.left, top: r.top, scale: v.scale, x: v.x, y: v.y}; }""")
    sx = v["left"] + v["x"] + 875 * v["scale"]
    sy = v["top"] + v["y"] + 560 * v["scale"]
    page.mouse.move(sx, sy)
    page.mouse.down()
    for i in range(240):
        page.mouse.move(sx + 150 * np.sin(i / 20), sy + 80 * np.cos(i / 25))
    page.mouse.up()
    frames = page.evaluate("() => { window.benchOn = false; return window.benchFrames.slice(2); }")
    work = page.evaluate("() => window.benchWork")
    moved = page.evaluate("() => window.assayWorkbench.response().annotations.at(-1)")
    context.close()
    result = {"shapes": n_shapes, "image": "1732x1155", "mouse_moves": 240, "repaints": len(work),
              "repaint_ms_p50": round(float(np.median(work)), 3) if work else None, "repaint_ms_p95": p95(work),
              "frame_interval_ms_p50": round(float(np.median(frames)), 2) if frames else None, "frame_interval_ms_p95": p95(frames),
              "frames_over_20ms": int(sum(1 for f in frames if f > 20)), "frames": len(frames), "moved_box": moved}
    print(f"drag 1 of {n_shapes}: repaint p50 {result['repaint_ms_p50']} ms, p95 {result['repaint_ms_p95']} ms; "
          f"frame interval p50 {result['frame_interval_ms_p50']} ms, p95 {result['frame_interval_ms_p95']} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--shapes", type=int, default=500)
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    images = {name: photo(*size) for name, size in SIZES.items()}
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "sizes": {name: f"{w}x{h}" for name, (w, h) in SIZES.items()},
        "preview_and_tiles": preview_and_tiles(images, max(1, min(args.runs, 3))),
        "trackers": tracker_fps(),
    }
    if not args.skip_browser:
        result.update(browser_figures(images, args.runs, args.shapes))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
