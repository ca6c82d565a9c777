"""Fifty raccoon photos labelled end to end in the browser by a script, then the
consolidated boxes compared with the dataset's.

Starts a real `assay serve` (SQLite, fresh data dir), uploads N photos of the raccoon
dataset (../shared/datasets/images/raccoon) with the official client, and has two
annotators label every photo in Chromium with the image tool: the mouse drags each true
box (from the dataset's annotations, at whatever zoom the tool fits the photo to) and
Enter submits. Two labels a task: the server consolidates the two answers (weighted box
clustering) and completes the task. The consolidated boxes are matched to the dataset's
(Hungarian on IoU) and their IoU reported.

    python bench/raccoon_e2e.py [--images 50] [--labelers 2]

Writes bench/results/raccoon_e2e.json."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402

from assay.quality.geometry import box_iou  # noqa: E402

DATASET = ROOT.parent / "shared" / "datasets" / "images" / "raccoon"
RESULTS = ROOT / "bench" / "results" / "raccoon_e2e.json"


def dataset_boxes(limit: int) -> dict[str, list[tuple[int, int, int, int]]]:
    """image file → its true boxes (left, top, width, height), the first `limit` images."""
    boxes: dict[str, list] = defaultdict(list)
    with (DATASET / "annotations.csv").open() as f:
        for row in csv.DictReader(f):
            x0, y0, x1, y1 = (int(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
            boxes[row["image"]].append((x0, y0, x1 - x0, y1 - y0))
    names = sorted(boxes, key=lambda n: int(Path(n).stem.split("-")[1]))[:limit]
    return {n: boxes[n] for n in names}


def label_all(page, server, pid: str, truth_by_task: dict[str, list]) -> list[float]:
    """Labels every task the queue gives this annotator; seconds per task."""
    from tests.vision_support import drag, to_page

    seconds = []
    page.goto(f"{server.url}/label/{pid}")
    while True:
        page.wait_for_function("() => ['ready', 'empty'].includes(document.getElementById('workbench').dataset.state)")
        if page.get_attribute("#workbench", "data-state") == "empty":
            return seconds
        t = time.perf_counter()
        assignment = page.get_attribute("#workbench", "data-assignment")
        task_id = page.evaluate("window.assayWorkbench.current().task.task_id")
        page.wait_for_function("() => { const v = document.querySelector('.tool')?.iaView; return v && v.image.width > 0 }")
        for left, top, width, height in truth_by_task[task_id]:
            drag(page, to_page(page, left, top), to_page(page, left + width, top + height), steps=4)
        page.keyboard.press("Enter")
        page.wait_for_function(
            "prev => { const r = document.getElementById('workbench'); return r.dataset.state === 'empty' || "
            "(r.dataset.state === 'ready' && r.dataset.assignment !== prev && !r.dataset.busy); }", arg=assignment)
        seconds.append(time.perf_counter() - t)


def compare(consolidated: list[dict], truth: list[tuple]) -> list[float]:
    """IoU of each true box with its matched consolidated box (0 when unmatched)."""
    got = np.array([[a["left"], a["top"], a["width"], a["height"]] for a in consolidated if a.get("type") == "box"], dtype=float).reshape(-1, 4)
    want = np.array(truth, dtype=float).reshape(-1, 4)
    if not len(got):
        return [0.0] * len(want)
    S = box_iou(want, got)
    rows, cols = linear_sum_assignment(-S)
    matched = dict(zip(rows.tolist(), S[rows, cols].tolist()))
    return [matched.get(i, 0.0) for i in range(len(want))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--labelers", type=int, default=2)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    from scaleapi.tasks import TaskType

    from tests.browser import CHROMIUM, Org, login
    from tests.support import Server

    truth = dataset_boxes(args.images)
    server = Server(data_dir=Path(tempfile.mkdtemp(prefix="bench-raccoon-")) / "data", database_url="").start()
    try:
        client = server.client()
        org = Org(server)
        name = "raccoons e2e"
        client.create_project(project_name=name, task_type=TaskType.ImageAnnotation,
                              params={"instruction": "Box every raccoon.", "labels_per_task": args.labelers})
        pid = org.project_id(name)
        geometries = {"box": {"objects_to_annotate": ["raccoon"]}}
        truth_by_task = {}
        t = time.perf_counter()
        for image, boxes in truth.items():
            with (DATASET / image).open("rb") as f:
                url = client.upload_file(f).attachment_url
            task = client.create_task(TaskType.ImageAnnotation, project=name, attachment=url, geometries=geometries, metadata={"image": image})
            truth_by_task[task.id] = boxes
        setup_seconds = time.perf_counter() - t
        per_task: list[float] = []
        t = time.perf_counter()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for _ in range(args.labelers):
                person = org.person("annotator")
                org.add_member(pid, person)
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                login(page, server, person)
                per_task += label_all(page, server, pid, truth_by_task)
                context.close()
            browser.close()
        labeling_seconds = time.perf_counter() - t
        ious, statuses = [], []
        for task_id, boxes in truth_by_task.items():
            task = client.get_task(task_id)
            statuses.append(task.status)
            ious += compare((task.response or {}).get("annotations") or [], boxes)
        result = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "images": len(truth), "true_boxes": len(ious), "labelers": args.labelers,
            "completed": statuses.count("completed"),
            "iou_mean": round(float(np.mean(ious)), 4), "iou_min": round(float(np.min(ious)), 4),
            "share_iou_at_least_0_9": round(float(np.mean(np.array(ious) >= 0.9)), 4),
            "seconds_per_task_median": round(statistics.median(per_task), 3), "labeling_seconds": round(labeling_seconds, 1),
            "upload_and_create_seconds": round(setup_seconds, 1),
        }
    finally:
        server.stop()
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
