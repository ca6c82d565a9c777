"""Round trips through the real libraries: the raccoon COCO set imported and exported
again (pycocotools reads the same boxes), YOLO and Pascal VOC loaded by supervision, COCO
polygons and RLE masks decoded by pycocotools against our masks pixel for pixel, WNUT-17
imported from its tokens and exported as CoNLL, spaCy DocBin and Hugging Face datasets
with typed features, and chat preferences as TRL-style DPO rows."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.security.hostile import Tenant

# datasets reads and writes local files only here; never let it try the hub
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if not SHARED.exists():
    SHARED = Path("/work/shared/datasets")
RACCOON = SHARED / "images" / "raccoon"
WNUT = SHARED / "text" / "wnut17" / "items.jsonl"


@pytest.fixture()
def tenant(server) -> Tenant:
    return Tenant.new(server, "roundtrip")


def _import(http, pid: str, filename: str, data: bytes, **fields) -> dict:
    r = http.post(f"/api/projects/{pid}/imports", files={"file": (filename, data)}, data=fields)
    assert r.status_code == 201, r.text[:2000]
    return r.json()


def _export(http, pid: str, fmt: str, **params) -> bytes:
    r = http.get(f"/api/projects/{pid}/export", params={"format": fmt, "include_gold": "true", **params})
    assert r.status_code == 200, r.text[:2000]
    return r.content


def _unzip(data: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(into)
    return into


def test_raccoon_coco_imported_and_exported_gives_the_same_boxes(tenant, tmp_path):
    from pycocotools.coco import COCO

    http = tenant.http()
    pid = tenant.project_id(tenant.project("imageannotation", geometries={"box": {"objects_to_annotate": ["raccoon"]}}))
    source = json.loads((RACCOON / "annotations_coco.json").read_text())
    result = _import(http, pid, "annotations_coco.json", (RACCOON / "annotations_coco.json").read_bytes(), mode="gold",
                     base_url="https://example.com/raccoon")
    assert result["created"] == len(source["images"]) == 200
    out = tmp_path / "coco.json"
    out.write_bytes(_export(http, pid, "coco"))
    ours = COCO(str(out))
    theirs = COCO(str(RACCOON / "annotations_coco.json"))

    def boxes(coco) -> dict[str, list]:
        return {coco.imgs[i]["file_name"]: sorted(tuple(a["bbox"]) + (coco.cats[a["category_id"]]["name"],) for a in coco.imgToAnns[i])
                for i in coco.imgs}

    assert boxes(ours) == boxes(theirs)
    assert all(ours.imgs[i]["width"] > 0 for i in ours.imgs)


def _image_zip(names: list[str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name in names:
            archive.write(RACCOON / "images" / name, f"images/{name}")
        coco = json.loads((RACCOON / "annotations_coco.json").read_text())
        keep = {i["id"] for i in coco["images"] if i["file_name"].split("/")[-1] in names}
        coco["images"] = [i for i in coco["images"] if i["id"] in keep]
        coco["annotations"] = [a for a in coco["annotations"] if a["image_id"] in keep]
        archive.writestr("annotations.json", json.dumps(coco))
    return buf.getvalue()


def test_yolo_and_voc_load_in_supervision(tenant, tmp_path):
    import supervision as sv

    http = tenant.http()
    pid = tenant.project_id(tenant.project("imageannotation", geometries={"box": {"objects_to_annotate": ["raccoon"]}}))
    names = ["raccoon-1.jpg", "raccoon-2.jpg", "raccoon-12.jpg"]
    assert _import(http, pid, "raccoons.zip", _image_zip(names), mode="gold")["created"] == 3
    coco = {i["file_name"].split("/")[-1]: i["id"] for i in json.loads((RACCOON / "annotations_coco.json").read_text())["images"]}
    expected = {}
    for a in json.loads((RACCOON / "annotations_coco.json").read_text())["annotations"]:
        for name in names:
            if coco[name] == a["image_id"]:
                x, y, w, h = a["bbox"]
                expected.setdefault(name.rsplit(".", 1)[0], []).append([x, y, x + w, y + h])

    yolo = _unzip(_export(http, pid, "yolo", media="true"), tmp_path / "yolo")
    dataset = sv.DetectionDataset.from_yolo(str(yolo / "images"), str(yolo / "labels"), str(yolo / "data.yaml"))
    assert dataset.classes == ["raccoon"] and len(dataset) == 3
    for path, _, detections in dataset:
        np.testing.assert_allclose(sorted(detections.xyxy.tolist()), sorted(expected[Path(path).stem]), atol=0.01)

    voc = _unzip(_export(http, pid, "voc", media="true"), tmp_path / "voc")
    dataset = sv.DetectionDataset.from_pascal_voc(str(voc / "JPEGImages"), str(voc / "Annotations"))
    assert dataset.classes == ["raccoon"] and len(dataset) == 3
    for path, _, detections in dataset:
        np.testing.assert_allclose(sorted(detections.xyxy.tolist()), sorted(expected[Path(path).stem]), atol=0.01)


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def test_coco_polygons_and_rle_masks_match_pixel_for_pixel(tenant):
    from pycocotools import mask as mask_utils

    http = tenant.http()
    rng = np.random.default_rng(7)
    road = np.zeros((40, 60), dtype=np.uint8)
    road[25:, :] = 255
    car = (rng.random((40, 60)) > 0.7).astype(np.uint8) * 255  # ragged: many runs
    uploads = {name: tenant.upload(f"{name}.png", _png(pixels), "image/png")["attachment_url"]
               for name, pixels in {"road": road, "car": car, "image": np.zeros((40, 60)), "indexed": (road > 0) * 1 + (car > 0) * 2}.items()}
    seg = tenant.project("segmentannotation", labels=["road", "car"])
    r = http.post("/v1/task/segmentannotation", json={"project": seg, "attachment": uploads["image"], "labels": ["road", "car"]})
    task_id = r.json()["task_id"]
    answer = {"annotations": {"unlabeled": None, "labeled": {"road": uploads["road"], "car": uploads["car"]},
                              "combined": {"image": uploads["image"], "indexedImage": uploads["indexed"]}},
              "labelMapping": {"road": {"index": 1, "color": "#ff0000"}, "car": {"index": 2, "color": "#00ff00"}}}
    assert http.post(f"/api/tasks/{task_id}/answers", json={"response": answer}).status_code == 200
    document = json.loads(_export(http, tenant.project_id(seg), "coco"))
    names = {c["id"]: c["name"] for c in document["categories"]}
    masks = {names[a["category_id"]]: a for a in document["annotations"]}
    for label, pixels in (("road", road), ("car", car)):
        decoded = mask_utils.decode(masks[label]["segmentation"])
        assert (decoded == (pixels > 0)).all(), label
        assert masks[label]["area"] == float(mask_utils.area(masks[label]["segmentation"]))
        assert masks[label]["bbox"] == mask_utils.toBbox(masks[label]["segmentation"]).tolist()
    # class-id PNG masks: car painted over road where both are set
    with zipfile.ZipFile(io.BytesIO(_export(http, tenant.project_id(seg), "masks"))) as archive:
        class_png = next(n for n in archive.namelist() if n.startswith("SegmentationClass/"))
        classes = np.asarray(Image.open(io.BytesIO(archive.read(class_png))))
        assert archive.read("labelmap.txt").decode().splitlines() == ["0 unlabeled", "1 road", "2 car"]
    expected = np.where(car > 0, 2, np.where(road > 0, 1, 0))
    assert (classes == expected).all()

    # polygons (and an ellipse) rasterized by pycocotools equal the same outline drawn by Pillow
    boxes = tenant.project("imageannotation", geometries={"polygon": {"objects_to_annotate": ["lake"]}, "box": {"objects_to_annotate": ["car"]}})
    vertices = [{"x": 5, "y": 5}, {"x": 50, "y": 8}, {"x": 30, "y": 35}]
    r = http.post("/v1/task/imageannotation", json={"project": boxes, "attachment": uploads["image"],
                                                     "geometries": {"polygon": {"objects_to_annotate": ["lake"]}, "box": {"objects_to_annotate": ["car"]}}})
    shapes = [{"uuid": "p", "type": "polygon", "label": "lake", "vertices": vertices},
              {"uuid": "b", "type": "box", "label": "car", "left": 2, "top": 3, "width": 10, "height": 7}]
    assert http.post(f"/api/tasks/{r.json()['task_id']}/answers", json={"response": {"annotations": shapes}}).status_code == 200
    document = json.loads(_export(http, tenant.project_id(boxes), "coco"))
    image = document["images"][0]
    assert (image["width"], image["height"]) == (60, 40)  # read from the uploaded image
    polygon = next(a for a in document["annotations"] if a["segmentation"])
    rle = mask_utils.frPyObjects(polygon["segmentation"], image["height"], image["width"])
    assert int(mask_utils.area(mask_utils.merge(rle))) == pytest.approx(polygon["area"], rel=0.1)
    box = next(a for a in document["annotations"] if not a["segmentation"])
    assert box["bbox"] == [2, 3, 10, 7] and box["area"] == 70


def _wnut(n: int) -> list[dict]:
    rows = []
    with open(WNUT) as f:
        for line in f:
            item = json.loads(line)
            if any(t != "O" for t in item["tags"]):
                rows.append(item)
            if len(rows) == n:
                return rows
    return rows


def test_wnut17_imported_and_exported_as_conll_docbin_and_datasets(tenant, tmp_path):
    import datasets
    import spacy
    from spacy.tokens import DocBin

    http = tenant.http()
    labels = ["person", "location", "corporation", "product", "creative-work", "group"]
    pid = tenant.project_id(tenant.project("namedentityrecognition", labels=labels))
    rows = _wnut(40)
    data = "\n".join(json.dumps({"tokens": r["tokens"], "tags": r["tags"], "unique_id": f"wnut-{r['id']}"}) for r in rows).encode()
    assert _import(http, pid, "wnut.jsonl", data, mode="gold")["created"] == 40

    conll = _export(http, pid, "conll").decode()
    sentences = [[line.split() for line in block.splitlines()] for block in conll.split("\n\n")[1:] if block.strip()]
    assert [[p[0] for p in s] for s in sentences] == [r["tokens"] for r in rows]
    assert [[p[-1] for p in s] for s in sentences] == [r["tags"] for r in rows]

    docs = list(DocBin().from_bytes(_export(http, pid, "docbin")).get_docs(spacy.blank("xx").vocab))
    assert [[t.text for t in d] for d in docs] == [r["tokens"] for r in rows]
    for doc, row in zip(docs, rows):
        tags = ["O"] * len(doc)
        for ent in doc.ents:
            tags[ent.start] = f"B-{ent.label_}"
            for i in range(ent.start + 1, ent.end):
                tags[i] = f"I-{ent.label_}"
        assert tags == row["tags"]

    folder = _unzip(_export(http, pid, "huggingface"), tmp_path / "hf")
    for ds in (datasets.load_from_disk(str(folder / "dataset")), datasets.Dataset.from_parquet(str(folder / "data.parquet"))):
        names = ds.features["ner_tags"].feature.names
        assert names[0] == "O" and "B-person" in names and isinstance(ds.features["ner_tags"].feature, datasets.ClassLabel)
        assert ds["tokens"] == [r["tokens"] for r in rows]
        assert [[names[i] for i in tags] for tags in ds["ner_tags"]] == [r["tags"] for r in rows]


def test_text_classification_to_datasets_with_class_labels(tenant, tmp_path):
    import datasets

    http = tenant.http()
    pid = tenant.project_id(tenant.project("categorization", categories=["pos", "neg"]))
    csv = "text,label,metadata.source\ngood film,pos,a\nawful,neg,b\nfine,pos,c\n"
    assert _import(http, pid, "reviews.csv", csv.encode(), mode="gold")["created"] == 3
    ds = datasets.load_from_disk(str(_unzip(_export(http, pid, "huggingface"), tmp_path / "hf") / "dataset"))
    assert ds.features["label"].names == ["pos", "neg"] and ds["text"] == ["good film", "awful", "fine"] and ds["label"] == [0, 1, 0]


def test_chat_preferences_as_dpo_reward_ranking_and_rubric(tenant):
    http = tenant.http()
    pairwise = tenant.project("chat")
    messages = [{"role": "user", "content": "How do I reverse a list?"}]
    responses = [{"model": "m1", "content": "xs[::-1]"}, {"model": "m2", "content": "xs.reverse() returns it"}]
    r = http.post("/v1/task/chat", json={"project": pairwise, "messages": messages, "responses": responses, "evaluation": "pairwise"})
    assert http.post(f"/api/tasks/{r.json()['task_id']}/answers",
                     json={"response": {"preference": {"winner": "A", "strength": "much better"}}}).status_code == 200
    tie = http.post("/v1/task/chat", json={"project": pairwise, "messages": messages, "responses": responses, "evaluation": "pairwise"})
    assert http.post(f"/api/tasks/{tie.json()['task_id']}/answers", json={"response": {"preference": {"winner": "tie"}}}).status_code == 200
    dpo = [json.loads(line) for line in _export(http, tenant.project_id(pairwise), "dpo").decode().splitlines()]
    assert len(dpo) == 1  # the tie is no preference
    row = dpo[0]
    # TRL's conversational preference schema: prompt messages, one assistant message each
    assert row["prompt"] == messages and row["chosen"] == [{"role": "assistant", "content": "xs[::-1]"}]
    assert row["rejected"] == [{"role": "assistant", "content": "xs.reverse() returns it"}]
    assert all(m.keys() == {"role", "content"} for m in row["prompt"] + row["chosen"] + row["rejected"])
    assert 0 < row["confidence"] <= 1
    reward = json.loads(_export(http, tenant.project_id(pairwise), "reward").decode().splitlines()[0])
    assert reward["margin"] == 3 and reward["strength"] == "much better"

    ranked = tenant.project("chat")
    three = [*responses, {"model": "m3", "content": "reversed(xs)"}]
    r = http.post("/v1/task/chat", json={"project": ranked, "messages": messages, "responses": three, "evaluation": "ranking"})
    assert http.post(f"/api/tasks/{r.json()['task_id']}/answers", json={"response": {"ranking": ["C", "A", "B"]}}).status_code == 200
    ranking = json.loads(_export(http, tenant.project_id(ranked), "ranking"))
    assert ranking["ranking"] == ["C", "A", "B"] and [x["model"] for x in ranking["responses"]] == ["m3", "m1", "m2"]
    pairs = [json.loads(line) for line in _export(http, tenant.project_id(ranked), "reward").decode().splitlines()]
    assert [(p["chosen_id"], p["rejected_id"], p["margin"]) for p in pairs] == [("C", "A", 1), ("C", "B", 2), ("A", "B", 1)]

    scored = tenant.project("chat")
    rubric = [{"id": "accuracy", "title": "Accuracy", "scale": 3}, {"id": "clarity", "title": "Clarity"}]
    r = http.post("/v1/task/chat", json={"project": scored, "messages": messages, "responses": responses[:1], "evaluation": "rubric", "rubric": rubric})
    answer = {"scores": {"A": {"accuracy": {"score": 3}, "clarity": {"score": 4, "justification": "short"}}}}
    assert http.post(f"/api/tasks/{r.json()['task_id']}/answers", json={"response": answer}).status_code == 200
    line = json.loads(_export(http, tenant.project_id(scored), "rubric"))
    assert line["scores"] == {"accuracy": 3, "clarity": 4} and line["scale"] == {"accuracy": 3, "clarity": 5} and line["model"] == "m1"
