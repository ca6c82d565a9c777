"""Imports over HTTP: a preview with every bad row's line number and nothing stored, the
same file refused whole by the import, then fixed and imported; pre-labels and gold; YOLO
and media zips; and video tracks exported as MOT and CVAT XML."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest
from PIL import Image

from tests.security.hostile import Tenant

BAD_CSV = """text,label,priority,metadata.source
fine film,pos,1,a
,neg,2,b
awful,maybe,3,c
"great, really",pos,4,d
ok,neg,lots,e
"""


@pytest.fixture()
def tenant(server) -> Tenant:
    return Tenant.new(server, "imports")


def _count(http, project: str) -> int:
    return http.get("/v1/tasks", params={"project": project, "limit": 1}).json()["total"]


def test_bad_rows_are_listed_with_their_lines_and_nothing_is_stored(tenant):
    http = tenant.http()
    name = tenant.project("categorization", categories=["pos", "neg"])
    pid = tenant.project_id(name)
    files = {"file": ("reviews.csv", BAD_CSV.encode())}
    preview = http.post(f"/api/projects/{pid}/imports/preview", files=files, data={"mode": "prelabels"})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["format"] == "csv" and body["rows"] == 5 and body["columns"] == ["text", "label", "priority", "metadata.source"]
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, "attachment"), (4, "hypothesis"), (6, "priority")]
    assert body["preview"][0] == {"line": 2, "params": {"attachment": "fine film", "attachment_type": "text", "categories": ["pos", "neg"],
                                                        "allow_multiple": False, "hypothesis": {"category": "pos"}},
                                  "metadata": {"source": "a"}, "unique_id": None, "label": {"category": "pos"}, "media": None}
    refused = http.post(f"/api/projects/{pid}/imports", files=files, data={"mode": "prelabels"})
    assert refused.status_code == 400 and refused.json()["field"] == "file" and len(refused.json()["errors"]) == 3
    assert "line 3" in refused.json()["error"]
    assert _count(http, name) == 0
    fixed = BAD_CSV.replace(",neg,2,b", "meh,neg,2,b").replace("maybe", "neg").replace("lots", "5")
    done = http.post(f"/api/projects/{pid}/imports", files={"file": ("reviews.csv", fixed.encode())}, data={"mode": "prelabels"})
    assert done.status_code == 201, done.text
    assert done.json()["created"] == 5 and _count(http, name) == 5
    task = http.get(f"/v1/task/{done.json()['task_ids'][3]}").json()
    assert task["params"]["attachment"] == "great, really" and task["params"]["hypothesis"] == {"category": "pos"} and task["priority"] == 4
    assert task["metadata"] == {"source": "d"} and task["status"] == "pending"
    events = http.get("/api/audit", params={"action": "import"}).json()["events"]
    assert events[0]["details"]["tasks"] == 5 and events[0]["details"]["mode"] == "prelabels"


def test_jsonl_json_and_bad_uploads(tenant):
    http = tenant.http()
    name = tenant.project("categorization", categories=["pos", "neg"])
    pid = tenant.project_id(name)
    jsonl = b'{"text": "a", "unique_id": "u1"}\nnot json\n{"text": "b", "unique_id": "u1"}\n[1]\n'
    errors = http.post(f"/api/projects/{pid}/imports/preview", files={"file": ("x.jsonl", jsonl)}).json()["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [(2, "line"), (3, "unique_id"), (4, "line")]
    ok = http.post(f"/api/projects/{pid}/imports", files={"file": ("x.json", json.dumps({"tasks": [{"text": "a"}, {"text": "b"}]}).encode())})
    assert ok.status_code == 201 and ok.json()["created"] == 2
    gold = http.post(f"/api/projects/{pid}/imports", files={"file": ("g.jsonl", b'{"text": "c", "label": "neg"}\n')}, data={"mode": "gold"})
    assert gold.status_code == 201
    assert http.get(f"/api/projects/{pid}/gold").json()["items"][0]["expected_response"] == {"category": "neg"}
    no_label = http.post(f"/api/projects/{pid}/imports", files={"file": ("g.jsonl", b'{"text": "c"}\n')}, data={"mode": "gold"})
    assert no_label.status_code == 400 and no_label.json()["errors"][0]["field"] == "label"
    assert tenant.http(test=True).post(f"/api/projects/{pid}/imports", files={"file": ("g.jsonl", b'{"text": "c", "label": "neg"}\n')},
                                       data={"mode": "gold"}).status_code == 403
    for files, data, field in [({"file": ("x.bin", b"??")}, {}, "format"), ({"file": ("x.zip", b"not a zip")}, {}, "file"),
                               ({"file": ("x.csv", b"a,b\n")}, {"mode": "all"}, "mode"), ({"file": ("x.csv", b"a\n1\n")}, {"mapping": "{"}, "mapping"),
                               ({"file": ("x.csv", b"\xff\xfe")}, {}, "file"), ({"file": ("x.json", b"{}")}, {}, "file")]:
        r = http.post(f"/api/projects/{pid}/imports", files=files, data=data)
        assert r.status_code == 400 and r.json()["field"] == field, (files, data, r.text)
    assert http.post(f"/api/projects/{pid}/imports", json={"file": "x"}).json()["field"] == "file"
    assert _count(http, name) == 2
    other = Tenant.new(tenant.server, "stranger").http()
    assert other.post(f"/api/projects/{pid}/imports/preview", files={"file": ("x.jsonl", b'{"text": "a"}\n')}).status_code == 404


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.zeros((height, width, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_yolo_and_media_zips(tenant):
    http = tenant.http()
    name = tenant.project("imageannotation", geometries={"box": {"objects_to_annotate": ["cat", "dog"]},
                                                         "polygon": {"objects_to_annotate": ["cat", "dog"]}})
    pid = tenant.project_id(name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("data.yaml", "names: [cat, dog]\n")
        archive.writestr("images/a.png", _png(200, 100))
        archive.writestr("labels/a.txt", "1 0.5 0.5 0.2 0.4\n0 0.1 0.1 0.3 0.1 0.2 0.5\n")
    r = http.post(f"/api/projects/{pid}/imports", files={"file": ("set.zip", buf.getvalue())}, data={"mode": "prelabels"})
    assert r.status_code == 201, r.text
    task = http.get(f"/v1/task/{r.json()['task_ids'][0]}").json()
    assert task["params"]["attachment"].startswith("scaledata://")
    box, polygon = task["params"]["hypothesis"]["annotations"]
    assert (box["label"], box["left"], box["top"], box["width"], box["height"]) == ("dog", 80, 30, 40, 40)
    assert polygon["vertices"] == [{"x": 20, "y": 10}, {"x": 60, "y": 10}, {"x": 40, "y": 50}]
    media = io.BytesIO()
    with zipfile.ZipFile(media, "w") as archive:
        archive.writestr("photos/x.png", _png(10, 10))
        archive.writestr("photos/y.png", _png(10, 10))
        archive.writestr("__MACOSX/._x.png", b"junk")
    r = http.post(f"/api/projects/{pid}/imports", files={"file": ("photos.zip", media.getvalue())}, data={"format": "media"})
    assert r.status_code == 201 and r.json()["created"] == 2


def test_video_tracks_as_mot_and_cvat(tenant):
    http = tenant.http()
    geometries = {"box": {"objects_to_annotate": ["car"]}}
    name = tenant.project("videoannotation", geometries=geometries)
    frames = [f"https://example.com/f{i}.jpg" for i in range(3)]
    task = http.post("/v1/task/videoannotation", json={"project": name, "attachments": frames, "attachment_type": "image",
                                                       "geometries": geometries}).json()["task_id"]
    box = {"type": "box", "label": "car", "width": 10, "height": 5}
    answer = {"annotations": {"frames": [{"annotations": [{"uuid": "c1", "left": 0, "top": 0, **box}]},
                                         {"annotations": [{"uuid": "c1", "left": 4, "top": 1, **box}, {"uuid": "c2", "left": 50, "top": 50, **box}]},
                                         {"annotations": []}]}}
    assert http.post(f"/api/tasks/{task}/answers", json={"response": answer}).status_code == 200
    pid = tenant.project_id(name)
    with zipfile.ZipFile(io.BytesIO(http.get(f"/api/projects/{pid}/export", params={"format": "mot"}).content)) as archive:
        rows = list(csv.reader(io.StringIO(archive.read(f"{task}/gt/gt.txt").decode())))
        assert "seqLength=3" in archive.read(f"{task}/seqinfo.ini").decode()
    assert rows == [["1", "1", "0", "0", "10", "5", "1", "1", "1"], ["2", "1", "4", "1", "10", "5", "1", "1", "1"],
                    ["2", "2", "50", "50", "10", "5", "1", "1", "1"]]
    with zipfile.ZipFile(io.BytesIO(http.get(f"/api/projects/{pid}/export", params={"format": "cvat"}).content)) as archive:
        root = ET.fromstring(archive.read(f"{task}.xml"))
    tracks = root.findall("track")
    assert [t.get("label") for t in tracks] == ["car", "car"]
    first = [(b.get("frame"), b.get("outside"), b.get("xtl"), b.get("xbr")) for b in tracks[0].findall("box")]
    assert first == [("0", "0", "0.00", "10.00"), ("1", "0", "4.00", "14.00"), ("2", "1", "4.00", "14.00")]


def test_cli_import_and_export_with_progress(tenant, tmp_path):
    http = tenant.http()
    name = tenant.project("categorization", categories=["pos", "neg"])
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV)
    refused = tenant.server.cli("import", name, str(bad), "--org", tenant.name, "--mode", "gold", check=False)
    assert refused.returncode != 0 and "line 3: attachment" in refused.stderr and "nothing was imported" in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text("text,label\nnice,pos\nbad,neg\n")
    done = tenant.server.cli("import", name, str(good), "--org", tenant.name, "--mode", "prelabels")
    assert "imported 2 tasks" in done.stderr
    out = tmp_path / "out.jsonl"
    tenant.server.cli("export", name, "-o", str(out), "--org", tenant.name, "--status", "all")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [t["params"]["hypothesis"] for t in lines] == [{"category": "pos"}, {"category": "neg"}]
    actions = [e["action"] for e in http.get("/api/audit").json()["events"]]
    assert "import" in actions and "export" in actions
