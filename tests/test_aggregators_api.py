"""Consolidation per task type through the workbench API on SQLite and PostgreSQL: named
entities by span voting, boxes by IoU clustering, pairwise judgements by their decision
(not their wording), free text by the medoid. The `quality.method` names the aggregator."""

from __future__ import annotations

import pytest
from scaleapi.tasks import TaskType

from tests.browser import Org


@pytest.fixture()
def org(server):
    return Org(server)


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
    assert done["quality"]["agreeing"] == 3 and done["quality"]["method"] == "one_coin"


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
