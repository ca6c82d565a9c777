"""The video tool in a real browser: a box tracked over frames sent as attachments, two
keyframes set with the mouse and the keys, the interpolated middle frame checked
numerically, the tracker (OpenCV CSRT on the server) following the box to the end, and
the /v1 answer stored with one entry per frame."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType

from tests.browser import login, open_workbench, screenshot, wait_ready
from tests.vision_support import click, drag, image_bytes, require_vision, to_image, to_page, upload, wait_image

pytestmark = pytest.mark.browser

FRAMES = 12


def square_x(k: int) -> int:
    """Where the dark square is on frame k (it moves 10 px a frame)."""
    return 20 + 10 * k


def frame_at(page) -> int:
    return page.evaluate("document.querySelector('.tool').vaFrame()")


def open_video_task(web_server, web_client, web_org, new_page, tmp_path, name: str, geometries: dict):
    """A video task of FRAMES uploaded frames (a dark square moving 10 px a frame) in a new
    project, opened by a new annotator at 1:1 zoom. Returns (task, page)."""
    web_client.create_project(project_name=name, task_type=TaskType.VideoAnnotation, params={"instruction": "Track every object."})
    pid = web_org.project_id(name)
    frames = [upload(web_client, tmp_path, f"f{k}.png", image_bytes(240, 160, [(square_x(k), 60, 30, 30)], color=(20, 30, 40)))
              for k in range(FRAMES)]
    task = web_client.create_task(TaskType.VideoAnnotation, project=name, attachments=frames, geometries=geometries)
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)
    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    wait_image(page, 240)
    page.wait_for_function("() => document.querySelector('.va-slider')")
    page.keyboard.press("x")
    return task, page


def test_track_keyframes_interpolation_and_tracker(web_server, web_client, web_org, new_page, uniq, tmp_path):
    require_vision("cv2")
    task, page = open_video_task(web_server, web_client, web_org, new_page, tmp_path, f"traffic {uniq}", {"box": {"objects_to_annotate": ["car"]}})

    # frame 1: a box around the square
    a, b = to_page(page, square_x(0), 60), to_page(page, square_x(0) + 30, 90)
    drag(page, a, b)
    first = page.evaluate("window.assayWorkbench.response()")["annotations"]["frames"][0]["annotations"][0]
    # frame 9: the square moved 80 px; the box is moved onto it (a keyframe there)
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    assert frame_at(page) == 8
    page.keyboard.press("v")
    drag(page, to_page(page, first["left"] + 15, 75), to_page(page, first["left"] + 95, 75))
    answer = page.evaluate("window.assayWorkbench.response()")["annotations"]["frames"]
    ninth = answer[8]["annotations"][0]
    assert ninth["left"] == pytest.approx(to_image(page, *to_page(page, first["left"] + 95, 75))[0] - 15, abs=0.6)
    # the middle frame (5) is the exact linear mix of the two keyframes
    middle = answer[4]["annotations"][0]
    assert middle["uuid"] == first["uuid"] == ninth["uuid"]
    assert middle["left"] == pytest.approx(round((first["left"] + ninth["left"]) / 2, 2), abs=0.011)
    assert middle["top"] == pytest.approx(round((first["top"] + ninth["top"]) / 2, 2), abs=0.011)
    assert page.locator(".va-key").count() == 2
    screenshot(page, "videoannotation")

    # the tracker follows the box from frame 9 to the end; its boxes become keyframes
    page.keyboard.press("t")
    page.wait_for_function("() => document.querySelector('.ia-message').textContent.startsWith('The tracker followed it')")
    assert page.locator(".va-key").count() == 2 + (FRAMES - 9)
    page.keyboard.press("End")
    last = page.evaluate("window.assayWorkbench.response()")["annotations"]["frames"][FRAMES - 1]["annotations"][0]
    assert last["left"] == pytest.approx(ninth["left"] + 10 * (FRAMES - 9), abs=3)

    final = page.evaluate("window.assayWorkbench.response()")
    page.keyboard.press("Enter")
    wait_ready(page, page.get_attribute("#workbench", "data-assignment"))
    stored = web_client.get_task(task.id).response
    assert stored == final and len(stored["annotations"]["frames"]) == FRAMES


def test_polygon_track_moves_vertex_by_vertex(web_server, web_client, web_org, new_page, uniq, tmp_path):
    """A polygon drawn on the first frame and moved on the ninth: the frames between are the
    vertex-by-vertex mix, and the stored /v1 answer carries the polygon on every frame."""
    task, page = open_video_task(web_server, web_client, web_org, new_page, tmp_path, f"people {uniq}",
                                 {"polygon": {"objects_to_annotate": ["person"]}})

    page.keyboard.press("p")
    corners = [(20, 60), (50, 60), (50, 90), (20, 90)]
    for c in corners:
        click(page, to_page(page, *c))
    click(page, to_page(page, *corners[0]))
    first = page.evaluate("window.assayWorkbench.response()")["annotations"]["frames"][0]["annotations"][0]
    assert first["type"] == "polygon" and [(v["x"], v["y"]) for v in first["vertices"]] == [pytest.approx(c, abs=0.6) for c in corners]
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("v")
    drag(page, to_page(page, 35, 75), to_page(page, 115, 75))  # the square moved 80 px
    answer = page.evaluate("window.assayWorkbench.response()")["annotations"]["frames"]
    ninth = answer[8]["annotations"][0]
    assert [v["x"] for v in ninth["vertices"]] == pytest.approx([v["x"] + 80 for v in first["vertices"]], abs=0.6)
    middle = answer[4]["annotations"][0]
    assert middle["uuid"] == first["uuid"] == ninth["uuid"]
    for m, a, b in zip(middle["vertices"], first["vertices"], ninth["vertices"]):
        assert m["x"] == pytest.approx((a["x"] + b["x"]) / 2, abs=0.011) and m["y"] == pytest.approx((a["y"] + b["y"]) / 2, abs=0.011)
    assert page.locator(".va-key").count() == 2

    final = page.evaluate("window.assayWorkbench.response()")
    page.keyboard.press("Enter")
    wait_ready(page, page.get_attribute("#workbench", "data-assignment"))
    stored = web_client.get_task(task.id).response
    assert stored == final and all(f["annotations"][0]["type"] == "polygon" for f in stored["annotations"]["frames"])
