"""The image tool in a real browser, with the mouse and the keyboard: every geometry drawn,
edited, deleted and undone at two zoom levels, constraints refused with a message, the
stored /v1 answer exact in image pixels; pre-labels accepted and edited; two labelers'
boxes reviewed in their own colours and fixed; a large image from object storage opens
through the store's links."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType

from tests.browser import Org, login, open_workbench, screenshot, wait_ready
from tests.support import Server
from tests.vision_support import click, drag, image_bytes, to_image, to_page, upload, view, wait_image

pytestmark = pytest.mark.browser

GEOMETRIES = {
    "box": {"objects_to_annotate": ["car", "bus"], "min_width": 20, "min_height": 10, "can_rotate": True},
    "polygon": {"objects_to_annotate": ["road"], "max_vertices": 6},
    "line": {"objects_to_annotate": ["lane"]},
    "point": {"objects_to_annotate": ["light"]},
    "ellipse": {"objects_to_annotate": ["wheel"]},
    "cuboid": {"objects_to_annotate": ["truck"]},
}


def shapes(page) -> list[dict]:
    """The answer the tool would submit now."""
    return page.evaluate("() => window.assayWorkbench.response()")["annotations"]


def message(page) -> str:
    return page.locator(".ia-message").inner_text()


def setup_project(web_client, web_org, uniq, name, geometries, **settings):
    web_client.create_project(project_name=name, task_type=TaskType.ImageAnnotation, params={"instruction": "Outline every object."})
    pid = web_org.project_id(name)
    if settings:
        web_org.settings(pid, **settings)
    return pid


def test_every_geometry_drawn_edited_and_stored_exactly(web_server, web_client, web_org, new_page, uniq, tmp_path):
    name = f"streets {uniq}"
    pid = setup_project(web_client, web_org, uniq, name, GEOMETRIES)
    url = upload(web_client, tmp_path, "street.png", image_bytes(400, 300, [(40, 40, 120, 60)]))
    task, following = (web_client.create_task(TaskType.ImageAnnotation, project=name, attachment=url, geometries=GEOMETRIES,
                                              annotation_attributes={"occluded": {"choices": ["yes", "no"]}}) for _ in range(2))
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)
    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    wait_image(page, 400)
    page.keyboard.press("x")  # 1:1
    assert view(page)["scale"] == 1

    # a box under min_width × min_height is refused and says why
    drag(page, to_page(page, 100, 100), to_page(page, 110, 105))
    assert "at least 20 × 10 px" in message(page)
    assert shapes(page) == []
    # a box: drag from corner to corner (bottom-right to top-left works too)
    a, b = to_page(page, 160, 100), to_page(page, 40, 40)
    drag(page, a, b)
    (x0, y0), (x1, y1) = to_image(page, *b), to_image(page, *a)
    box = shapes(page)[0]
    assert (box["type"], box["label"]) == ("box", "car")
    assert (box["left"], box["top"], box["width"], box["height"]) == pytest.approx((x0, y0, x1 - x0, y1 - y0), abs=0.011)
    assert message(page) == ""
    page.keyboard.press("2")  # the selected box becomes a bus
    assert shapes(page)[0]["label"] == "bus"

    # zoom in twice as far: the same image pixels take twice the screen pixels
    page.keyboard.press("=")
    assert view(page)["scale"] == 2
    # polygon: four clicks, closed on the first vertex
    page.keyboard.press("p")
    corners = [(180, 120), (240, 120), (240, 170), (180, 170)]
    for c in corners:
        click(page, to_page(page, *c))
    click(page, to_page(page, *corners[0]))
    polygon = shapes(page)[1]
    assert polygon["type"] == "polygon" and polygon["label"] == "road"
    assert [(v["x"], v["y"]) for v in polygon["vertices"]] == [pytest.approx(c, abs=0.6) for c in corners]
    # a polygon of two vertices is refused
    click(page, to_page(page, 200, 200))
    click(page, to_page(page, 220, 200))
    page.keyboard.press("Shift+Enter")
    assert "at least 3 vertices" in message(page)
    assert len(shapes(page)) == 2
    # line: three clicks and Shift+Enter
    page.keyboard.press("l")
    for c in [(150, 200), (200, 210), (250, 200)]:
        click(page, to_page(page, *c))
    page.keyboard.press("Shift+Enter")
    # point: one click
    page.keyboard.press("o")
    click(page, to_page(page, 210, 140))
    # ellipse and cuboid: drags
    page.keyboard.press("e")
    drag(page, to_page(page, 260, 110), to_page(page, 300, 130))
    page.keyboard.press("c")
    drag(page, to_page(page, 150, 180), to_page(page, 190, 210))
    drawn = shapes(page)
    assert [s["type"] for s in drawn] == ["box", "polygon", "line", "point", "ellipse", "cuboid"]
    assert [(v["x"], v["y"]) for v in drawn[4]["vertices"]] == [pytest.approx(p, abs=0.6) for p in [(300, 120), (280, 130), (260, 120), (280, 110)]]
    assert (drawn[3]["x"], drawn[3]["y"]) == pytest.approx((210, 140), abs=0.6)
    assert len(drawn[5]["vertices"]) == 8
    screenshot(page, "imageannotation")

    # editing in select mode: move the polygon 10 image px right (20 screen px at 2×)
    page.keyboard.press("v")
    before = shapes(page)[1]["vertices"]
    drag(page, to_page(page, 200, 150), to_page(page, 210, 150))
    assert [v["x"] for v in shapes(page)[1]["vertices"]] == pytest.approx([v["x"] + 10 for v in before], abs=0.6)
    # Alt+click removes a vertex; double-click on an edge adds one
    click(page, to_page(page, 250, 170), "Alt")
    assert len(shapes(page)[1]["vertices"]) == 3
    page.keyboard.press("Control+z")
    assert len(shapes(page)[1]["vertices"]) == 4
    page.mouse.dblclick(*to_page(page, 220, 120))
    assert len(shapes(page)[1]["vertices"]) == 5
    # a vertex dragged to a new place
    drag(page, to_page(page, 250, 170), to_page(page, 255, 180))
    assert (shapes(page)[1]["vertices"][3]["x"], shapes(page)[1]["vertices"][3]["y"]) == pytest.approx((255, 180), abs=0.6)

    # back to 1:1: the box resized by its bottom-right handle and rotated by its handle
    page.keyboard.press("x")
    click(page, to_page(page, 60, 50))
    assert page.locator(".ia-row.selected .ia-row-label").inner_text() == "bus"
    drag(page, to_page(page, x1, y1), to_page(page, x1 + 20, y1 + 10))
    box = shapes(page)[0]
    assert (box["width"], box["height"]) == pytest.approx((x1 - x0 + 20, y1 - y0 + 10), abs=0.011)
    page.select_option(".ia-attr select", "yes")
    assert shapes(page)[0]["attributes"] == {"occluded": "yes"}
    cx, cy = box["left"] + box["width"] / 2, box["top"] + box["height"] / 2
    rot = page.locator(".ia-handle.rotate").bounding_box()
    drag(page, (rot["x"] + 5, rot["y"] + 5), to_page(page, cx + 100, cy))
    box = shapes(page)[0]
    assert box["rotation"] == pytest.approx(1.5708, abs=0.01)
    assert len(box["vertices"]) == 4  # a rotated box also lists its corners

    # duplicate, hide, lock, delete and undo by keys
    page.keyboard.press("d")
    assert len(shapes(page)) == 7
    page.keyboard.press("Delete")
    assert len(shapes(page)) == 6
    page.keyboard.press(".")  # next shape in the stack
    page.keyboard.press("k")  # locked: Delete does nothing
    page.keyboard.press("Delete")
    assert len(shapes(page)) == 6
    page.keyboard.press("k")
    page.keyboard.press("Delete")
    assert len(shapes(page)) == 5
    page.keyboard.press("Control+z")
    assert len(shapes(page)) == 6
    page.keyboard.press("Control+y")  # redo the delete, then undo it again
    assert len(shapes(page)) == 5
    page.keyboard.press("Control+z")
    assert len(shapes(page)) == 6

    final = shapes(page)
    page.keyboard.press("Enter")
    wait_ready(page, page.get_attribute("#workbench", "data-assignment"))
    stored = web_client.get_task(task.id).response
    assert stored == {"annotations": final}
    assert [s["type"] for s in stored["annotations"]] == ["box", "polygon", "line", "point", "ellipse", "cuboid"]

    # the next task of the sequence starts from a copy of these shapes (U), with new uuids
    assert page.evaluate("window.assayWorkbench.current().task.task_id") == following.id
    wait_image(page, 400)
    assert shapes(page) == []
    page.keyboard.press("u")
    copied = shapes(page)
    strip = [{k: v for k, v in s.items() if k != "uuid"} for s in final]
    assert [{k: v for k, v in s.items() if k != "uuid"} for s in copied] == strip
    assert not {s["uuid"] for s in copied} & {s["uuid"] for s in final}


def test_prelabels_then_review_of_two_labelers_with_a_fix(web_server, web_client, web_org, new_page, uniq, tmp_path):
    name = f"raccoons {uniq}"
    geometries = {"box": {"objects_to_annotate": ["raccoon"]}}
    pid = setup_project(web_client, web_org, uniq, name, geometries, review_fraction=1, labels_per_task=2)
    url = upload(web_client, tmp_path, "yard.png", image_bytes(300, 200, [(50, 40, 100, 80)]))
    hypothesis = {"annotations": [{"uuid": "pre-1", "type": "box", "label": "raccoon", "left": 50, "top": 40, "width": 100, "height": 80}]}
    task = web_client.create_task(TaskType.ImageAnnotation, project=name, attachment=url, geometries=geometries, hypothesis=hypothesis)
    first, second, reviewer = web_org.person("annotator"), web_org.person("annotator"), web_org.person("reviewer")
    for person in (first, second, reviewer):
        web_org.add_member(pid, person)

    # the first labeler moves the pre-labelled box 6 px right: the shape says "edited"
    page = new_page()
    login(page, web_server, first)
    open_workbench(page, web_server, pid)
    wait_image(page, 300)
    page.keyboard.press("x")
    assert page.locator(".ia-fate").inner_text() == "pre-label accepted"
    assert "pre-label" in page.locator("#wb-notice").inner_text()
    page.keyboard.press(".")  # select the first shape
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    assert page.locator(".ia-fate").inner_text() == "pre-label edited"
    page.keyboard.press("Enter")
    wait_ready(page, page.get_attribute("#workbench", "data-assignment"))
    # the second accepts it as it came
    page2 = new_page()
    login(page2, web_server, second)
    open_workbench(page2, web_server, pid)
    wait_image(page2, 300)
    page2.keyboard.press("Enter")
    wait_ready(page2, page2.get_attribute("#workbench", "data-assignment"))
    answers = web_org.task(task.id)["answers"]
    assert sorted(a["hypothesis_status"] for a in answers) == ["accepted", "edited"]

    # the reviewer sees both labelers' boxes in their own colours over the consolidated one
    page3 = new_page()
    login(page3, web_server, reviewer)
    open_workbench(page3, web_server, pid, "review")
    wait_image(page3, 300)
    page3.keyboard.press("x")
    overlays = page3.locator(".ia-overlay")
    assert overlays.count() == 2
    colours = {overlays.nth(i).get_attribute("stroke") for i in range(2)}
    assert len(colours) == 2
    assert page3.locator(".ia-layer").count() == 3  # two labelers and the consolidated answer
    screenshot(page3, "imageannotation-review")
    page3.keyboard.press("Alt+1")
    assert overlays.count() == 1
    page3.keyboard.press("Alt+1")
    assert overlays.count() == 2
    proposal = shapes(page3)
    assert len(proposal) == 1 and proposal[0]["left"] == pytest.approx(53, abs=0.01)  # the mean of 56 and 50
    # the fix: the reviewer drags the right edge 10 px further and submits the fix
    page3.keyboard.press(".")
    box = proposal[0]
    right = (box["left"] + box["width"], box["top"] + box["height"] / 2)
    target = to_page(page3, right[0] + 10, right[1])
    drag(page3, to_page(page3, *right), target)
    fixed = shapes(page3)
    assert fixed[0]["width"] == pytest.approx(to_image(page3, *target)[0] - box["left"], abs=0.011)
    assert fixed[0]["width"] == pytest.approx(box["width"] + 10, abs=0.6)
    page3.keyboard.press("f")
    wait_ready(page3, page3.get_attribute("#workbench", "data-assignment"))
    stored = web_client.get_task(task.id)
    assert stored.status == "completed"
    assert stored.response == {"annotations": fixed}


def test_large_image_opens_as_a_preview_and_sharpens_with_tiles(web_server, web_client, web_org, new_page, uniq, tmp_path):
    name = f"aerial {uniq}"
    geometries = {"box": {"objects_to_annotate": ["roof"]}}
    pid = setup_project(web_client, web_org, uniq, name, geometries)
    url = upload(web_client, tmp_path, "aerial.jpg", image_bytes(4400, 2200, [(2000, 1000, 300, 200)], fmt="JPEG"))
    task = web_client.create_task(TaskType.ImageAnnotation, project=name, attachment=url, geometries=geometries)
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)
    page = new_page()
    login(page, web_server, annotator)
    open_workbench(page, web_server, pid)
    wait_image(page, 4400)
    assert "/preview?" in page.get_attribute(".ia-base", "src")
    assert page.locator(".ia-tile").count() == 0  # fitted: the preview has pixels enough
    page.keyboard.press("x")
    page.wait_for_function("() => [...document.querySelectorAll('.ia-tile')].some((t) => t.complete && t.naturalWidth === 1024)")
    assert "/tiles/" in page.get_attribute(".ia-tile", "src")
    # drawn at 1:1, stored in the full image's pixels
    a, b = to_page(page, 2100, 1050), to_page(page, 2200, 1120)
    drag(page, a, b)
    (x0, y0), (x1, y1) = to_image(page, *a), to_image(page, *b)
    box = shapes(page)[0]
    assert (box["left"], box["top"], box["width"], box["height"]) == pytest.approx((x0, y0, x1 - x0, y1 - y0), abs=0.011)
    assert (box["left"], box["top"]) == pytest.approx((2100, 1050), abs=0.6)
    page.keyboard.press("Enter")
    wait_ready(page, page.get_attribute("#workbench", "data-assignment"))
    assert web_client.get_task(task.id).response == {"annotations": [box]}


def test_large_image_from_object_storage_loads_through_store_links(s3_server, new_page, tmp_path):
    """With object storage the page's preview and tiles are 307s to presigned links of the
    store (another origin): the browser follows them and draws them, and the store holds them."""
    bucket = s3_server.bucket()
    srv = Server(data_dir=tmp_path / "data", database_url="", env_overrides=s3_server.env(bucket)).start()
    try:
        client, org = srv.client(), Org(srv)
        geometries = {"box": {"objects_to_annotate": ["roof"]}}
        pid = setup_project(client, org, "", "aerial", geometries)
        url = upload(client, tmp_path, "aerial.jpg", image_bytes(4400, 2200, [(2000, 1000, 300, 200)], fmt="JPEG"))
        client.create_task(TaskType.ImageAnnotation, project="aerial", attachment=url, geometries=geometries)
        annotator = org.person("annotator")
        org.add_member(pid, annotator)
        page = new_page()
        stored: list[str] = []
        page.on("response", lambda r: stored.append(r.url) if r.url.startswith(s3_server.endpoint) and r.status == 200 else None)
        login(page, srv, annotator)
        open_workbench(page, srv, pid)
        wait_image(page, 4400)
        page.wait_for_function("() => document.querySelector('.ia-base').complete && document.querySelector('.ia-base').naturalWidth === 2048")
        page.keyboard.press("x")
        page.wait_for_function("() => [...document.querySelectorAll('.ia-tile')].some((t) => t.complete && t.naturalWidth === 1024)")
        assert any("/media/" in u and "/preview.jpg?" in u for u in stored) and any("/tiles/" in u for u in stored)
        keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket, Prefix="pre/fix/media/")["Contents"]]
        assert any(k.endswith("/preview.jpg") for k in keys) and any(k.endswith("/tiles/complete") for k in keys)
        org.http.close()
    finally:
        srv.stop()


def test_a_type_without_a_tool_says_so_and_leases_nothing(web_server, web_client, web_org, new_page, uniq):
    name = f"legacy {uniq}"
    web_client.create_project(project_name=name, task_type=TaskType.Comparison, params={"instruction": "Which is better?"})
    pid = web_org.project_id(name)
    task = web_client.create_task(TaskType.Comparison, project=name, attachments=["a", "b"], choices=["first", "second"])
    annotator = web_org.person("annotator")
    web_org.add_member(pid, annotator)
    page = new_page()
    login(page, web_server, annotator)
    assert "no labeling tool yet" in page.locator("#projects").inner_text()
    page.goto(f"{web_server.url}/label/{pid}")
    page.wait_for_function("() => document.getElementById('workbench').dataset.state === 'error'")
    assert "no labeling tool for comparison tasks" in page.locator("#wb-task").inner_text()
    assert web_org.task(task.id)["assignments"] == []
