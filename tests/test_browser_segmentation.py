"""The segmentation tool in a real browser: a mask painted with the brush, a polygon
filled, an object found by GrabCut from a dragged box, undone by keys, submitted, and
opened again by a reviewer who accepts it: the answer is Scale's (PNG files of the organization named in `annotations`
and `labelMapping`), and the COCO RLE of each label read back through /api matches the
pixels painted."""

from __future__ import annotations

import numpy as np
import pytest
from scaleapi.tasks import TaskType

from assay.quality.masks import rle_decode
from tests.browser import login, open_workbench, screenshot, wait_ready
from tests.vision_support import click, drag, image_bytes, require_vision, upload

pytestmark = pytest.mark.browser

SA_VIEW = "document.querySelector('.tool').saView"


def to_page(page, x: float, y: float) -> tuple[float, float]:
    v = page.evaluate(f"""() => {{ const r = document.querySelector('.sa-stage').getBoundingClientRect(); const v = {SA_VIEW};
        return {{left: r.left, top: r.top, scale: v.scale, x: v.x, y: v.y}}; }}""")
    return v["left"] + v["x"] + x * v["scale"], v["top"] + v["y"] + y * v["scale"]


def painted(page, label: str) -> int:
    return int(page.locator(f".ia-label[data-label='{label}'] .muted").first.inner_text().split()[0])


def test_paint_fill_grabcut_and_submit_a_mask(web_server, web_client, web_org, new_page, uniq, tmp_path):
    require_vision("cv2")
    name = f"segments {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.SegmentAnnotation, params={"instruction": "Paint every object."})
    pid = web_org.project_id(name)
    web_org.settings(pid, review_fraction=1)
    url = upload(web_client, tmp_path, "scene.png", image_bytes(300, 200, [(150, 100, 110, 80)], color=(30, 60, 160)))
    task = web_client.create_task(TaskType.SegmentAnnotation, project=name, attachment=url, labels=["sky", "car", "road"])
    annotator, reviewer = web_org.person("annotator"), web_org.person("reviewer")
    web_org.add_member(pid, annotator)
    web_org.add_member(pid, reviewer)
    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    page.wait_for_function(f"() => {SA_VIEW} && {SA_VIEW}.image.width === 300 && document.querySelector('.ia-label')")
    page.keyboard.press("x")

    # sky: a brush stroke along the top (radius 8 → a 16 px band)
    drag(page, to_page(page, 20, 20), to_page(page, 120, 20), steps=10)
    assert painted(page, "sky") > 1500
    # road: a polygon fill of the bottom-left corner (click, click, click, back on the first)
    page.keyboard.press("3")
    page.keyboard.press("p")
    for p in [(0, 150), (100, 150), (100, 200), (0, 200), (0, 150)]:
        click(page, to_page(page, *p))
    assert painted(page, "road") == 100 * 50
    page.keyboard.press("Control+z")
    assert painted(page, "road") == 0
    for p in [(0, 150), (100, 150), (100, 200), (0, 200), (0, 150)]:
        click(page, to_page(page, *p))
    # car: GrabCut from a loose box around the blue rectangle
    page.keyboard.press("2")
    page.keyboard.press("g")
    drag(page, to_page(page, 135, 88), to_page(page, 275, 192))
    page.wait_for_function("() => Number(document.querySelector(\".ia-label[data-label='car'] .muted\").textContent.split(' ')[0]) > 0")
    car = painted(page, "car")
    assert abs(car - 110 * 80) < 0.05 * 110 * 80
    screenshot(page, "segmentannotation")
    page.keyboard.press("Enter")
    wait_ready(page, page.get_attribute("#workbench", "data-assignment"))

    # the reviewer's tool starts from the submitted mask (its indexed PNG through a signed
    # link) and accepts it as it is
    review = new_page()
    login(review, web_server, reviewer)
    open_workbench(review, web_server, pid, "review")
    review.wait_for_function("() => Number(document.querySelector(\".ia-label[data-label='car'] .muted\")?.textContent.split(' ')[0]) > 0")
    assert (painted(review, "car"), painted(review, "road")) == (car, 5000)
    review.keyboard.press("a")
    wait_ready(review, review.get_attribute("#workbench", "data-assignment"))

    response = web_client.get_task(task.id).response
    assert set(response["labelMapping"]) == {"sky", "car", "road"}
    assert set(response["annotations"]["labeled"]) == {"sky", "car", "road"}
    assert all(u.startswith("scaledata://") for u in response["annotations"]["labeled"].values())
    assert response["annotations"]["unlabeled"] is None
    assert response["annotations"]["combined"]["indexedImage"].startswith("scaledata://")
    masks = web_org.http.get(f"/api/tasks/{task.id}/masks")
    assert masks.status_code == 200, masks.text
    road = rle_decode(masks.json()["masks"]["road"])
    assert road.shape == (200, 300) and road[150:200, 0:100].all() and road.sum() == 5000
    car_mask = rle_decode(masks.json()["masks"]["car"])
    truth = np.zeros((200, 300), dtype=bool)
    truth[100:180, 150:260] = True
    assert (car_mask & truth).sum() / (car_mask | truth).sum() > 0.95
