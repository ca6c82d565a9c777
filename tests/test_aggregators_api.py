"""Consolidation per task type through the workbench API on SQLite and PostgreSQL: named
entities by span voting, boxes by IoU clustering, polygons and points by geometry
clustering, pairwise judgements and rankings by Bradley-Terry (on their decision, not their
wording, with per-response scores and intervals in `quality.scores`), free text by the
medoid. The `quality.method` names the aggregator."""

from __future__ import annotations

import math

from scaleapi.tasks import TaskType

from assay.quality.preference import pairwise_preference


def three_labelers(client, org, name, task_type, params=None):
    client.create_project(project_name=name, task_type=task_type, params={"instruction": "Label.", "labels_per_task": 3, **(params or {})})
    pid = org.project_id(name)
    people = []
    for _ in range(3):
        person = org.person("annotator")
        org.add_member(pid, person)
        people.append(org.login(person))
    return pid, people


def submit_all(pid, people, responses):
    status = None
    for http, response in zip(people, responses):
        data = http.post(f"/api/projects/{pid}/next", json={}).json()
        r = http.post(f"/api/assignments/{data['assignment']['id']}/submit", json={"response": response})
        assert r.status_code == 200, r.text
        status = r.json()["task_status"]
    return status


def test_named_entities_are_voted_span_by_span(client, org, uniq):
    text = "Alex Wang spoke at Transform."
    pid, people = three_labelers(client, org, f"ner agg {uniq}", TaskType.NamedEntityRecognition)
    task = client.create_task(TaskType.NamedEntityRecognition, project=f"ner agg {uniq}", text=text, labels=["person", "event"],
                              relationships=[{"name": "at", "source_label": "person", "target_label": "event"}])
    full = {"annotations": [{"id": "p", "start": 0, "end": 9, "label": "person"}, {"id": "e", "start": 19, "end": 28, "label": "event"}],
            "relationships": [{"id": "r", "source_ref": "p", "target_ref": "e", "name": "at"}]}
    short = {"annotations": [{"id": "p", "start": 0, "end": 4, "label": "person"}]}
    assert submit_all(pid, people, [full, short, full]) == "completed"
    done = client.get_task(task.id).as_dict()
    assert done["response"]["annotations"] == [
        {"id": "a1", "start": 0, "end": 9, "text": "Alex Wang", "label": "person"},
        {"id": "a2", "start": 19, "end": 28, "text": "Transform", "label": "event"}]
    assert done["response"]["relationships"] == [{"id": "r1", "source_ref": "a1", "target_ref": "a2", "name": "at"}]
    assert done["quality"]["method"] == "span_vote" and done["quality"]["labels"] == 3 and 0.5 < done["quality"]["confidence"] < 1


def test_boxes_are_clustered_and_averaged(client, org, uniq):
    name = f"box agg {uniq}"
    pid, people = three_labelers(client, org, name, TaskType.ImageAnnotation)
    task = client.create_task(TaskType.ImageAnnotation, project=name, attachment="https://example.com/street.jpg",
                              geometries={"box": {"objects_to_annotate": ["car", "bus"]}})

    def box(left, label="car"):
        return {"annotations": [{"uuid": "b", "type": "box", "label": label, "left": left, "top": 10, "width": 50, "height": 40}]}

    assert submit_all(pid, people, [box(10), box(12), box(14, "bus")]) == "completed"
    done = client.get_task(task.id).as_dict()
    [consensus] = done["response"]["annotations"]
    # equal weights: mean left 12, majority label car
    assert (consensus["left"], consensus["top"], consensus["width"], consensus["label"]) == (12.0, 10.0, 50.0, "car")
    assert done["quality"]["method"] == "box_clustering"


def test_pairwise_judgements_agree_despite_different_words(client, org, uniq):
    name = f"pair agg {uniq}"
    pid, people = three_labelers(client, org, name, TaskType.Chat)
    task = client.create_task(TaskType.Chat, project=name, messages=[{"role": "user", "content": "2+2?"}],
                              responses=[{"content": "4"}, {"content": "5"}], evaluation="pairwise")
    answers = [{"preference": {"winner": "A", "strength": "much better"}, "justification": why} for why in ("right", "B is wrong", "")]
    answers[2].pop("justification")
    assert submit_all(pid, people, answers) == "completed"
    done = client.get_task(task.id).as_dict()
    assert done["response"]["preference"] == {"winner": "A", "strength": "much better"}
    quality = done["quality"]
    assert quality["agreeing"] == 3 and quality["method"] == "one_coin"
    # New labelers weigh 0.8 each: the decision's one-coin posterior over A / B / tie is
    # 0.8³ / (0.8³ + 2·0.1³); the Bradley-Terry fit adds each outcome's probability and scores.
    expect = pairwise_preference([1, 1, 1], [0.8, 0.8, 0.8])
    assert quality["confidence"] == round(0.8**3 / (0.8**3 + 2 * 0.1**3), 4) and quality["outcomes"]["A"] == round(expect.probabilities[1.0], 4)
    assert set(quality["outcomes"]) == {"A", "B", "tie"} and math.isclose(sum(quality["outcomes"].values()), 1.0, abs_tol=2e-4)
    (a, b) = quality["scores"]
    assert (a["item"], b["item"]) == ("A", "B") and a["score"] == -b["score"] > 0 and a["low"] <= a["score"] <= a["high"]


def test_rankings_are_scored_by_bradley_terry(client, org, uniq):
    name = f"rank agg {uniq}"
    pid, people = three_labelers(client, org, name, TaskType.Chat)
    task = client.create_task(TaskType.Chat, project=name, messages=[{"role": "user", "content": "Name a prime."}],
                              responses=[{"content": "2"}, {"content": "9"}, {"content": "7"}, {"content": "1"}], evaluation="ranking")
    rankings = [["A", "C", "B", "D"], ["C", "A", "B", "D"], ["A", "C", "D", "B"]]
    assert submit_all(pid, people, [{"ranking": r} for r in rankings]) == "completed"
    done = client.get_task(task.id).as_dict()
    # A beats C 2:1 and everything else 3:0; C beats B and D 3:0; B beats D 2:1.
    assert done["response"]["ranking"] == ["A", "C", "B", "D"]
    quality = done["quality"]
    assert quality["method"] == "bradley_terry" and quality["labels"] == 3 and quality["agreeing"] == 1 and 0.5 < quality["confidence"] < 1
    scores = quality["scores"]
    assert [s["item"] for s in scores] == ["A", "C", "B", "D"]  # every response once, best first
    assert all(s["low"] <= s["score"] <= s["high"] for s in scores)
    assert [s["score"] for s in scores] == sorted((s["score"] for s in scores), reverse=True)
    assert abs(sum(s["score"] for s in scores)) < 1e-3  # log-strengths centred on 0


def test_polygons_and_points_are_clustered(client, org, uniq):
    name = f"poly agg {uniq}"
    pid, people = three_labelers(client, org, name, TaskType.ImageAnnotation)
    task = client.create_task(TaskType.ImageAnnotation, project=name, attachment="https://example.com/house.jpg",
                              geometries={"polygon": {"objects_to_annotate": ["roof", "shed"]}, "point": {"objects_to_annotate": ["door"]}})

    def answer(vertices, door, label="roof"):
        return {"annotations": [{"uuid": "p", "type": "polygon", "label": label, "vertices": [{"x": x, "y": y} for x, y in vertices]},
                                {"uuid": "d", "type": "point", "label": "door", "x": door[0], "y": door[1]}]}

    big, narrow, far = [(0, 0), (10, 0), (10, 10), (0, 10)], [(1, 0), (10, 0), (10, 10), (1, 10)], [(50, 50), (60, 50), (55, 60)]
    assert submit_all(pid, people, [answer(big, (100, 100)), answer(narrow, (104, 100), "shed"), answer(far, (102, 106))]) == "completed"
    done = client.get_task(task.id).as_dict()
    # Polygons: big and narrow (IoU 0.9) form the majority cluster, represented by the
    # medoid (a tie, to the smaller vertex list: big), label roof (1:1, the smaller label);
    # the far triangle is dropped. Points: all three within 10 px, at their mean.
    assert done["response"]["annotations"] == [
        {"uuid": "polygon-1", "type": "polygon", "label": "roof", "vertices": [{"x": float(x), "y": float(y)} for x, y in big]},
        {"uuid": "point-1", "type": "point", "label": "door", "x": 102.0, "y": 102.0}]
    # Confidence: mean of the polygon's support x IoU (2/3 x 0.95) and the point's
    # (1 x (1 - mean distance / 10), distances sqrt 8, sqrt 8, 4).
    point = 1 - (2 * math.sqrt(8) + 4) / 30
    assert done["quality"] == {"confidence": round((2 / 3 * 0.95 + point) / 2, 4), "labels": 3, "agreeing": 3, "method": "geometry_clustering"}


def test_multi_select_is_voted_category_by_category(client, org, uniq):
    name = f"multi agg {uniq}"
    pid, people = three_labelers(client, org, name, TaskType.Categorization)
    task = client.create_task(TaskType.Categorization, project=name, attachment="A red sports car", attachment_type="text",
                              categories=["red", "car", "boat"], allow_multiple=True)
    assert submit_all(pid, people, [{"category": ["red", "car"]}, {"category": ["car"]}, {"category": ["red", "car", "boat"]}]) == "completed"
    done = client.get_task(task.id).as_dict()
    # red 2/3, car 3/3, boat 1/3 → {red, car}; confidence mean(2/3, 1, 2/3) = 0.7778
    assert done["response"] == {"category": ["red", "car"]}
    assert done["quality"] == {"confidence": 0.7778, "labels": 3, "agreeing": 1, "method": "per_label_vote"}


def test_forms_are_consolidated_field_by_field(client, org, uniq):
    name = f"form agg {uniq}"
    pid, people = three_labelers(client, org, name, TaskType.TextCollection)
    task = client.create_task(TaskType.TextCollection, project=name, attachments=[{"type": "text", "content": "Great food, slow service."}],
                              fields=[{"type": "category", "field_id": "mood", "title": "Mood", "choices": ["pos", "neg", "mixed"]},
                                      {"type": "number", "field_id": "stars", "title": "Stars", "min": 1, "max": 5},
                                      {"type": "text", "field_id": "summary", "title": "Summary"},
                                      {"type": "ranking", "field_id": "aspects", "title": "Aspects", "choices": ["food", "service", "price"]}])

    def form(mood, stars, summary, aspects):
        return {"annotations": {"mood": {"response": [[mood]]}, "stars": {"response": [[stars]]}, "summary": {"response": [[summary]]},
                                "aspects": {"response": [aspects]}}}

    answers = [form("mixed", 4, "good food but slow service", ["food", "service", "price"]),
               form("mixed", 3, "food good, service slow", ["food", "price", "service"]),
               form("pos", 5, "great food", ["food", "service", "price"])]
    assert submit_all(pid, people, answers) == "completed"
    done = client.get_task(task.id).as_dict()
    got = {k: v["response"] for k, v in done["response"]["annotations"].items()}
    assert got["mood"] == [["mixed"]] and got["stars"] == [[4]]  # plurality; weighted median of 3, 4, 5
    assert got["aspects"] == [["food", "service", "price"]]  # Bradley-Terry over the three rankings
    assert got["summary"][0][0] in {a["annotations"]["summary"]["response"][0][0] for a in answers}
    assert done["quality"]["method"] == "per_field" and 0 < done["quality"]["confidence"] < 1
    aspects = done["quality"]["scores"]["aspects"]  # only the ranking field has scores
    assert set(done["quality"]["scores"]) == {"aspects"} and [s["item"] for s in aspects] == ["food", "service", "price"]
    assert all(s["low"] <= s["score"] <= s["high"] for s in aspects)
