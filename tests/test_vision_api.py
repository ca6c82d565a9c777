"""The vision assists and reports over real HTTP (SQLite and PostgreSQL): GrabCut, the
tracker and mask uploads only on the caller's own assignment and their organization's
files, bad bodies refused naming the field with nothing stored, and the quality report's
matched-IoU agreement for boxes."""

from __future__ import annotations

import io
import re

import pytest
from scaleapi.exceptions import ScaleInvalidRequest
from scaleapi.tasks import TaskType

from tests.vision_support import image_bytes, require_vision

BOX = {"box": {"objects_to_annotate": ["car", "bus"]}}


def _stored(org, task_id: str) -> str:
    """The task page's JSON as text, its signed file links without their expiry and signature
    (signed anew, per second, on every read)."""
    return re.sub(r"\?expires=\d+&signature=[0-9a-f]+", "", org.http.get(f"/api/tasks/{task_id}").text)


def claim(http, pid: str) -> dict:
    data = http.post(f"/api/projects/{pid}/next", json={}).json()
    assert data["assignment"], data
    return data


def setup(client, org, uniq, task_type, name, labels_per_task=1):
    client.create_project(project_name=name, task_type=task_type, params={"instruction": "Draw.", "labels_per_task": labels_per_task})
    pid = org.project_id(name)
    people = []
    for _ in range(labels_per_task):
        person = org.person("annotator")
        org.add_member(pid, person)
        people.append(org.login(person))
    return pid, people


def test_assists_work_only_on_the_callers_assignment_and_files(server, client, org, uniq):
    require_vision("cv2")
    name = f"seg {uniq}"
    pid, (http,) = setup(client, org, uniq, TaskType.SegmentAnnotation, name)
    url = client.upload_file(io.BytesIO(image_bytes(120, 80, [(40, 20, 40, 40)], color=(20, 20, 160)))).attachment_url
    task = client.create_task(TaskType.SegmentAnnotation, project=name, attachment=url, labels=["car", "road"])
    assignment = claim(http, pid)["assignment"]["id"]

    r = http.post(f"/api/assignments/{assignment}/grabcut", json={"box": {"left": 30, "top": 10, "width": 60, "height": 60}})
    assert r.status_code == 200, r.text
    region = r.json()
    assert (region["left"], region["top"], region["width"], region["height"]) == (30, 10, 60, 60)
    assert sum(region["runs"]) == 3600 and sum(region["runs"][1::2]) == pytest.approx(1600, rel=0.1)
    # someone else's assignment: 404; a bad box: 400 naming it
    other = org.login(org.person("annotator"))
    assert other.post(f"/api/assignments/{assignment}/grabcut", json={"box": {"left": 0, "top": 0, "width": 5, "height": 5}}).status_code == 404
    bad = http.post(f"/api/assignments/{assignment}/grabcut", json={"box": {"left": 0, "top": 0, "width": 1, "height": 5}})
    assert bad.status_code == 400 and bad.json()["field"] == "box.width"

    # a mask whose runs do not cover the image is refused, nothing stored
    files_before = _stored(org, task.id)
    assert "/api/files/" in files_before and "signature=" not in files_before
    bad = http.post(f"/api/assignments/{assignment}/masks", json={"width": 120, "height": 80, "runs": [[1, 10]],
                                                                  "labels": [{"label": "car", "index": 1, "color": "#ff0000"}]})
    assert bad.status_code == 400 and "runs" in bad.json()["error"]
    bad = http.post(f"/api/assignments/{assignment}/masks", json={"width": 120, "height": 80, "runs": [[2, 9600]],
                                                                  "labels": [{"label": "car", "index": 1, "color": "#ff0000"}]})
    assert bad.status_code == 400
    assert _stored(org, task.id) == files_before
    ok = http.post(f"/api/assignments/{assignment}/masks", json={"width": 120, "height": 80, "runs": [[0, 4800], [1, 4800]],
                                                                 "labels": [{"label": "road", "index": 1, "color": "#00FF00"}]})
    assert ok.status_code == 200, ok.text
    response = ok.json()
    assert response["labelMapping"] == {"road": {"index": 1, "color": "#00ff00"}}
    assert http.post(f"/api/assignments/{assignment}/submit", json={"response": response}).status_code == 200
    masks = org.http.get(f"/api/tasks/{task.id}/masks").json()["masks"]
    assert masks["road"]["size"] == [80, 120] and sum(masks["road"]["counts"][1::2]) == 4800

    # a task whose image is another organization's file cannot be assisted
    other_org = server.client(server.new_key(f"vision-other-{uniq}"))
    theirs = other_org.upload_file(io.BytesIO(image_bytes(50, 50))).attachment_url
    with pytest.raises(ScaleInvalidRequest, match="not a file of this organization"):
        client.create_task(TaskType.SegmentAnnotation, project=name, attachment=theirs, labels=["car"])


def test_tracker_follows_a_box_over_frame_attachments(server, client, org, uniq):
    require_vision("cv2")
    name = f"video {uniq}"
    pid, (http,) = setup(client, org, uniq, TaskType.VideoAnnotation, name)
    frames = [client.upload_file(io.BytesIO(image_bytes(160, 100, [(10 + 6 * k, 30, 24, 24)], color=(20, 20, 20)))).attachment_url for k in range(8)]
    client.create_task(TaskType.VideoAnnotation, project=name, attachments=frames, geometries=BOX)
    assignment = claim(http, pid)["assignment"]["id"]
    r = http.post(f"/api/assignments/{assignment}/track", json={"box": {"left": 10, "top": 30, "width": 24, "height": 24}, "frame": 0, "frames": 10})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["first_frame"] == 1 and len(body["boxes"]) == 7
    assert body["boxes"][-1]["left"] == pytest.approx(10 + 6 * 7, abs=3)
    bad = http.post(f"/api/assignments/{assignment}/track", json={"box": {"left": 10, "top": 30, "width": 24, "height": 24}, "frame": 7})
    assert bad.status_code == 400 and bad.json()["field"] == "frame"
    bad = http.post(f"/api/assignments/{assignment}/track", json={"box": {"left": 10, "top": 30, "width": 24, "height": 24}, "frame": 0, "method": "x"})
    assert bad.status_code == 400 and bad.json()["field"] == "method"


def test_quality_report_has_matched_iou_per_label(server, client, org, uniq):
    name = f"boxes {uniq}"
    pid, people = setup(client, org, uniq, TaskType.ImageAnnotation, name, labels_per_task=2)
    for i in range(6):
        client.create_task(TaskType.ImageAnnotation, project=name, attachment=f"https://example.com/{i}.jpg", geometries=BOX)
    for shift, http in zip((0, 2), people):
        for _ in range(6):
            data = claim(http, pid)
            response = {"annotations": [{"uuid": "a", "type": "box", "label": "car", "left": 10 + shift, "top": 10, "width": 20, "height": 20}]}
            assert http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": response}).status_code == 200
    geo = org.http.get(f"/api/projects/{pid}/quality").json()["geometry"]
    assert geo["tasks"] == 6
    assert geo["overall"]["mean_iou"] == pytest.approx(18 * 20 / (22 * 20))
    assert geo["labels"]["car"]["objects"] == 6
    assert geo["overall"]["low"] == pytest.approx(geo["overall"]["mean_iou"])  # every task alike: no spread
    page = org.login(org.person("admin")).get(f"/admin/projects/{pid}/quality")
    assert page.status_code == 200 and "Geometry agreement" in page.text


def test_three_labelers_masks_become_one_by_pixel_vote(server, client, org, uniq):
    """Each labeler numbers classes their own way; the vote maps them to the task's labels,
    stores the consolidated mask as files of the organization and scores who agreed."""
    name = f"seg vote {uniq}"
    pid, people = setup(client, org, uniq, TaskType.SegmentAnnotation, name, labels_per_task=3)
    url = client.upload_file(io.BytesIO(image_bytes(120, 80))).attachment_url
    task = client.create_task(TaskType.SegmentAnnotation, project=name, attachment=url, labels=["car", "road"])
    rows = 120
    answers = [  # (runs row-major over 120 x 80, the labeler's own label numbering)
        ([[1, 40 * rows], [0, 40 * rows]], [{"label": "car", "index": 1, "color": "#ff0000"}]),
        ([[2, 30 * rows], [0, 30 * rows], [1, 20 * rows]], [{"label": "road", "index": 1, "color": "#00ff00"},
                                                            {"label": "car", "index": 2, "color": "#ff0000"}]),
        ([[1, 80 * rows]], [{"label": "road", "index": 1, "color": "#00ff00"}]),
    ]
    submit_masks(people, pid, answers)
    done = org.http.get(f"/api/tasks/{task.id}").json()
    assert done["status"] == "completed"
    quality = done["quality"]
    # rows 0-29 car (2 of 3), 30-39 a three-way tie (background, the lowest class), 40-59
    # background, 60-79 road; everyone painted somewhere, so the share is averaged over all rows
    assert quality["method"] == "pixel_vote" and quality["labels"] == 3
    assert quality["confidence"] == pytest.approx((30 * 2 / 3 + 10 / 3 + 20 * 2 / 3 + 20 * 2 / 3) / 80, abs=1e-4)
    assert quality["mask_iou"] == pytest.approx([(0.75 + 0) / 2, 1.0, (0.25 + 0) / 2], abs=1e-4)
    assert quality["agreeing"] == 1
    assert done["response"]["labelMapping"] == {"car": {"index": 1, "color": "#ff0000"}, "road": {"index": 2, "color": "#00ff00"}}
    assert all(u.startswith(f"scaledata://{url.split('/')[2]}/") for u in done["response"]["annotations"]["labeled"].values())
    masks = org.http.get(f"/api/tasks/{task.id}/masks").json()["masks"]
    assert sum(masks["car"]["counts"][1::2]) == 30 * rows and sum(masks["road"]["counts"][1::2]) == 20 * rows


def submit_masks(people, pid: str, answers) -> None:
    """Each person claims the task and submits their mask (runs over 120 x 80, labels)."""
    for http, (runs, labels) in zip(people, answers):
        assignment = claim(http, pid)["assignment"]["id"]
        r = http.post(f"/api/assignments/{assignment}/masks", json={"width": 120, "height": 80, "runs": runs, "labels": labels})
        assert r.status_code == 200, r.text
        assert http.post(f"/api/assignments/{assignment}/submit", json={"response": r.json()}).status_code == 200


def test_a_mask_file_that_is_gone_falls_back_to_whole_answers(server, client, org, uniq):
    """An answer whose indexed image cannot be read is not voted per pixel: the task still
    completes, by whole-answer consensus, and nothing is half-written."""
    name = f"seg gone {uniq}"
    pid, people = setup(client, org, uniq, TaskType.SegmentAnnotation, name, labels_per_task=2)
    url = client.upload_file(io.BytesIO(image_bytes(120, 80))).attachment_url
    task = client.create_task(TaskType.SegmentAnnotation, project=name, attachment=url, labels=["car"])
    car = [{"label": "car", "index": 1, "color": "#ff0000"}]
    submit_masks(people[:1], pid, [([[1, 4800], [0, 4800]], car)])
    first = org.http.get(f"/api/tasks/{task.id}").json()["answers"][0]["response"]
    org_id, file_id = first["annotations"]["combined"]["indexedImage"].removeprefix("scaledata://").split("/")
    (server.data_dir / "files" / org_id / file_id).unlink()
    files_before = len(list((server.data_dir / "files" / org_id).iterdir()))
    submit_masks(people[1:], pid, [([[1, 4800], [0, 4800]], car)])
    done = org.http.get(f"/api/tasks/{task.id}").json()
    assert done["status"] == "completed" and done["quality"]["method"] != "pixel_vote"
    # only the second labeler's own mask files (the car mask, the colour and the indexed
    # image): no consolidated files were written
    assert len(list((server.data_dir / "files" / org_id).iterdir())) - files_before == 3


def test_the_task_page_never_votes_masks(server, client, org, uniq):
    """Two of three masks in: the task page's JSON shows no proposal (a vote would write
    files on a page view) and no file is written by looking."""
    name = f"seg page {uniq}"
    pid, people = setup(client, org, uniq, TaskType.SegmentAnnotation, name, labels_per_task=3)
    url = client.upload_file(io.BytesIO(image_bytes(120, 80))).attachment_url
    task = client.create_task(TaskType.SegmentAnnotation, project=name, attachment=url, labels=["car"])
    car = [{"label": "car", "index": 1, "color": "#ff0000"}]
    submit_masks(people[:2], pid, [([[1, 4800], [0, 4800]], car)] * 2)
    org_id = url.removeprefix("scaledata://").split("/")[0]
    before = sorted(p.name for p in (server.data_dir / "files" / org_id).iterdir())
    page = org.http.get(f"/api/tasks/{task.id}").json()
    assert page["status"] == "pending" and page["consolidated"] is None and len(page["answers"]) == 2
    assert sorted(p.name for p in (server.data_dir / "files" / org_id).iterdir()) == before
