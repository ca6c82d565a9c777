"""Scale v1 projects: create, get (get-or-create), list, setParams versions, and the
project defaults merged into new tasks. Driven with the official scaleapi client."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from scaleapi.exceptions import (
    ScaleDuplicateResource,
    ScaleInvalidRequest,
    ScaleNotEnabled,
    ScaleResourceNotFound,
)
from scaleapi.tasks import TaskType

from tests import local_http


def _raw(server, method: str, path: str, **kw) -> httpx.Response:
    return local_http.request(method, f"{server.url}{path}", auth=(server.live_key, ""), timeout=30, **kw)


def _assert_absent(client, name: str) -> None:
    with pytest.raises(ScaleResourceNotFound):
        client.get_project(name)


# ----------------------------------------------------------------------------- create


@pytest.mark.parametrize(
    "task_type, params",
    [
        (TaskType.Categorization, {"instruction": "Pick one.", "categories": ["cat", "dog"], "allow_multiple": True}),
        (TaskType.ImageAnnotation, {"instruction": "Box the cars.", "geometries": {"box": {"objects_to_annotate": ["car"]}}}),
        (TaskType.TextCollection, {"fields": [{"type": "text", "field_id": "f", "title": "F"}]}),
        (TaskType.NamedEntityRecognition, {"instruction": "Tag people.", "labels": [{"name": "PER"}]}),
    ],
)
def test_create_project_for_several_types(client, uniq, task_type, params):
    name = f"create {task_type.value} {uniq}"
    project = client.create_project(project_name=name, task_type=task_type, params=params)
    assert project.name == name
    assert project.type == task_type.value
    assert project.version == 0
    raw = project.as_dict()
    assert isinstance(raw["param_history"], list) and len(raw["param_history"]) == 1
    entry = raw["param_history"][-1]
    assert entry["version"] == 0
    for key, value in params.items():
        assert entry[key] == value
    assert project.instruction == params.get("instruction")
    # read back: the same project, same params
    again = client.get_project(name)
    assert again.name == name and again.type == task_type.value
    assert again.as_dict()["param_history"] == raw["param_history"]


def test_create_project_without_params_has_version_0(client, uniq):
    name = f"bare {uniq}"
    project = client.create_project(project_name=name, task_type=TaskType.Categorization)
    history = project.as_dict()["param_history"]
    assert len(history) == 1 and history[0]["version"] == 0
    assert project.instruction is None
    assert "categories" not in history[0]


def test_duplicate_name_is_409_and_original_unchanged(client, uniq):
    name = f"dup {uniq}"
    first = client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "original"})
    before = client.get_project(name).as_dict()
    with pytest.raises(ScaleDuplicateResource) as exc:
        client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "imposter"})
    assert exc.value.code == 409
    assert name in exc.value.message
    # another type under the same name is a duplicate too
    with pytest.raises(ScaleDuplicateResource):
        client.create_project(project_name=name, task_type=TaskType.ImageAnnotation)
    after = client.get_project(name).as_dict()
    assert after == before
    assert after["type"] == "categorization"
    assert after["param_history"][-1]["instruction"] == "original"
    assert first.as_dict()["param_history"] == after["param_history"]
    assert [p.name for p in client.projects()].count(name) == 1


@pytest.mark.parametrize("bad_name", ["", "   "])
def test_empty_name_is_400(client, bad_name):
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_project(project_name=bad_name, task_type=TaskType.Categorization)
    assert exc.value.code == 400
    assert "name" in exc.value.message


@pytest.mark.parametrize("body", [{"type": "categorization"}, {"type": "categorization", "name": None}, {"type": "categorization", "name": 12}])
def test_missing_or_non_string_name_is_400(server, body):
    r = _raw(server, "POST", "/v1/projects", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["status_code"] == 400
    assert r.json()["field"] == "name"
    assert "name" in r.json()["error"]


def test_unknown_type_is_400(server, client, uniq):
    name = f"unknown type {uniq}"
    r = _raw(server, "POST", "/v1/projects", json={"name": name, "type": "nosuchtype", "params": None})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "type"
    assert "nosuchtype" in r.json()["error"]
    r = _raw(server, "POST", "/v1/projects", json={"name": name})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "type"
    _assert_absent(client, name)


def test_known_but_not_enabled_type_is_402(client, uniq):
    name = f"lidar {uniq}"
    with pytest.raises(ScaleNotEnabled) as exc:
        client.create_project(project_name=name, task_type=TaskType.LidarAnnotation)
    assert exc.value.code == 402
    assert "lidarannotation" in exc.value.message
    _assert_absent(client, name)


@pytest.mark.parametrize("params", [["instruction"], [], "Pick one.", "", 5, 0, True, False])
def test_non_object_params_is_400(server, client, uniq, params):
    name = f"bad params {uniq}"
    r = _raw(server, "POST", "/v1/projects", json={"name": name, "type": "categorization", "params": params})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "params"
    _assert_absent(client, name)


def test_non_object_body_is_400(server):
    for body in ([{"name": "x", "type": "categorization"}], "x", None):
        r = _raw(server, "POST", "/v1/projects", json=body)
        assert r.status_code == 400, r.text
        assert isinstance(r.json(), dict) and r.json()["status_code"] == 400
    r = _raw(server, "POST", "/v1/projects", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text


def test_bad_labels_per_task_is_400(server, client, uniq):
    name = f"labels {uniq}"
    for labels in (0, 101, "2", 1.5):
        r = _raw(server, "POST", "/v1/projects", json={"name": name, "type": "categorization", "params": {"labels_per_task": labels}})
        assert r.status_code == 400, r.text
        assert "labels_per_task" in r.json()["error"]
    _assert_absent(client, name)


# ----------------------------------------------------------------------------- get / list


def test_get_unknown_project_is_404(client, uniq):
    with pytest.raises(ScaleResourceNotFound) as exc:
        client.get_project(f"missing {uniq}")
    assert exc.value.code == 404


def test_get_or_create_pattern(client, uniq):
    name = f"goc {uniq}"

    def get_or_create():
        try:
            return client.get_project(name), False
        except ScaleResourceNotFound:
            return client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "i"}), True

    first, created = get_or_create()
    assert created and first.name == name
    second, created_again = get_or_create()
    assert not created_again
    assert second.name == name and second.type == "categorization" and second.instruction == "i"


def test_list_projects_is_an_array_containing_new_ones(server, client, uniq):
    names = [f"list {uniq} {i}" for i in range(3)]
    for n in names:
        client.create_project(project_name=n, task_type=TaskType.Categorization)
    r = _raw(server, "GET", "/v1/projects")
    assert r.status_code == 200
    assert isinstance(r.json(), list)
    listed = {p["name"]: p for p in r.json()}
    for n in names:
        assert listed[n]["type"] == "categorization"
        assert listed[n]["param_history"][-1]["version"] == 0
    via_client = {p.name for p in client.projects()}
    assert set(names) <= via_client
    assert set(names) <= {p.name for p in client.get_projects()}


def test_other_organization_does_not_see_projects(server, client, uniq):
    name = f"private {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization)
    other = server.client(server.new_key(f"other-{uniq}"))
    with pytest.raises(ScaleResourceNotFound):
        other.get_project(name)
    assert name not in {p.name for p in other.projects()}
    # the other org may use the same name for its own project
    mine = other.create_project(project_name=name, task_type=TaskType.ImageAnnotation)
    assert mine.type == "imageannotation"
    assert client.get_project(name).type == "categorization"


# ----------------------------------------------------------------------------- setParams


def test_update_project_appends_versions_patch_and_replace(client, uniq):
    name = f"versions {uniq}"
    client.create_project(
        project_name=name, task_type=TaskType.Categorization, params={"instruction": "v0", "categories": ["a", "b"]}
    )
    v1 = client.update_project(name, patch=True, allow_multiple=True)
    assert v1.version == 1
    entry = v1.params
    assert entry["categories"] == ["a", "b"] and entry["allow_multiple"] is True and entry["instruction"] == "v0"
    assert "patch" not in entry
    v2 = client.update_project(name, patch=True, instruction="v2")
    assert v2.version == 2 and v2.instruction == "v2"
    assert v2.params["categories"] == ["a", "b"] and v2.params["allow_multiple"] is True
    v3 = client.update_project(name, patch=False, instruction="v3")
    assert v3.version == 3 and v3.instruction == "v3"
    assert "categories" not in v3.params and "allow_multiple" not in v3.params
    # without `patch` the new version replaces the previous one
    v4 = client.update_project(name, categories=["x", "y"])
    assert v4.version == 4
    assert v4.params["categories"] == ["x", "y"] and "instruction" not in v4.params
    history = client.get_project(name).as_dict()["param_history"]
    assert [h["version"] for h in history] == [0, 1, 2, 3, 4]
    # earlier versions are kept as they were
    assert history[0]["instruction"] == "v0" and "allow_multiple" not in history[0]
    assert history[1]["allow_multiple"] is True
    assert history[3] == {**v3.params}


def test_set_params_errors_leave_project_unchanged(server, client, uniq):
    name = f"sp errors {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "keep"})
    before = client.get_project(name).as_dict()
    quoted = quote(name, safe="")
    for body in (["instruction"], "text", 5):
        r = _raw(server, "POST", f"/v1/projects/{quoted}/setParams", json=body)
        assert r.status_code == 400, r.text
    r = _raw(server, "POST", f"/v1/projects/{quoted}/setParams", json={"patch": "yes", "instruction": "changed"})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "patch"
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.update_project(name, labels_per_task=0, instruction="changed")
    assert "labels_per_task" in exc.value.message
    assert client.get_project(name).as_dict() == before
    with pytest.raises(ScaleResourceNotFound):
        client.update_project(f"missing {uniq}", instruction="x")
    _assert_absent(client, f"missing {uniq}")


# ----------------------------------------------------------------------------- defaults merged into tasks


def test_project_defaults_are_merged_into_new_tasks(client, uniq):
    name = f"defaults {uniq}"
    client.create_project(
        project_name=name, task_type=TaskType.Categorization,
        params={"instruction": "Project rules.", "categories": ["x", "y"], "allow_multiple": True},
    )
    inherited = client.create_task(TaskType.Categorization, project=name, attachment="one", attachment_type="text")
    assert inherited.params["categories"] == ["x", "y"]
    assert inherited.params["allow_multiple"] is True
    assert inherited.instruction == "Project rules."
    # task-level params override the project's
    overriding = client.create_task(
        TaskType.Categorization, project=name, attachment="two", attachment_type="text", categories=["p", "q"],
        allow_multiple=False, instruction="Task says.",
    )
    assert overriding.params["categories"] == ["p", "q"]
    assert overriding.params["allow_multiple"] is False
    # the project instruction is appended to the task's own
    assert overriding.instruction.startswith("Task says.")
    assert overriding.instruction.endswith("Project rules.")
    assert overriding.instruction.index("Task says.") < overriding.instruction.index("Project rules.")
    # the project's instruction is not a type param
    assert "instruction" not in inherited.params
    # a new version applies to tasks created afterwards only
    client.update_project(name, patch=False, categories=["m", "n"])
    later = client.create_task(TaskType.Categorization, project=name, attachment="three", attachment_type="text")
    assert later.params["categories"] == ["m", "n"]
    assert later.instruction == ""
    assert "allow_multiple" not in later.params or later.params["allow_multiple"] is False
    assert client.get_task(inherited.id).params["categories"] == ["x", "y"]
    assert client.get_task(inherited.id).instruction == "Project rules."


def test_task_without_categories_needs_project_default(client, uniq):
    name = f"no defaults {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization)
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_task(TaskType.Categorization, project=name, attachment="x", attachment_type="text")
    assert "categories" in exc.value.message
    assert client.get_tasks_count(project_name=name) == 0
    client.update_project(name, patch=True, categories=["a", "b"])
    task = client.create_task(TaskType.Categorization, project=name, attachment="x", attachment_type="text")
    assert task.params["categories"] == ["a", "b"]


def test_task_type_must_match_project(client, uniq):
    name = f"typed {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"categories": ["a"]})
    with pytest.raises(ScaleInvalidRequest) as exc:
        client.create_task(TaskType.ImageAnnotation, project=name, attachment="http://example.com/a.jpg",
                           geometries={"box": {"objects_to_annotate": ["car"]}})
    assert "project" in exc.value.message
    assert client.get_tasks_count(project_name=name) == 0


# ----------------------------------------------------------------------------- awkward names


@pytest.mark.parametrize("template", ["with space {u}", "plus+sign {u}", "slash/in/name {u}", "all of/them+ 100% {u}?#&="])
def test_names_with_special_characters(server, client, uniq, template):
    name = template.format(u=uniq)
    created = client.create_project(project_name=name, task_type=TaskType.Categorization, params={"categories": ["a", "b"]})
    assert created.name == name
    assert client.get_project(name).name == name
    updated = client.update_project(name, patch=True, instruction="special")
    assert updated.name == name and updated.version == 1 and updated.params["categories"] == ["a", "b"]
    assert client.get_project(name).instruction == "special"
    task = client.create_task(TaskType.Categorization, project=name, attachment="x", attachment_type="text")
    assert task.project == name
    assert [t.id for t in client.get_tasks(project_name=name)] == [task.id]
    assert name in {p.name for p in client.projects()}
    if "/" in name:
        # the percent-encoded slash is part of the name, not a path separator
        r = _raw(server, "GET", f"/v1/projects/{quote(name, safe='')}")
        assert r.status_code == 200, r.text
        assert r.json()["name"] == name


def test_slash_name_does_not_collide_with_sub_routes(client, uniq):
    base = f"route {uniq}"
    tricky = f"{base}/setParams"
    client.create_project(project_name=base, task_type=TaskType.Categorization, params={"instruction": "base"})
    client.create_project(project_name=tricky, task_type=TaskType.Categorization, params={"instruction": "tricky"})
    assert client.get_project(tricky).instruction == "tricky"
    assert client.get_project(base).instruction == "base"
    client.update_project(tricky, patch=True, instruction="tricky v1")
    assert client.get_project(tricky).version == 1
    assert client.get_project(base).version == 0
    assert client.get_project(base).instruction == "base"


def test_update_project_without_params_appends_an_empty_version(client, uniq):
    """The client sends no body at all when update_project() gets no keyword arguments."""
    name = f"noparams {uniq}"
    client.create_project(project_name=name, task_type=TaskType.Categorization, params={"instruction": "x"})
    project = client.update_project(name)
    history = project.as_dict()["param_history"]
    assert [v["version"] for v in history] == [0, 1]
    assert "instruction" not in history[-1]  # patch defaults to false: replaced, not merged
