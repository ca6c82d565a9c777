"""`assay quality eval` / `assay quality replay` (the typer sub-app) and the folder loader."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from assay.cli.quality import quality_app
from assay.quality.evaluate import DatasetError, load_dataset

METHOD_NAMES = {"majority_vote", "weighted_majority_vote", "dawid_skene", "one_coin_dawid_skene", "glad", "bayesian_dawid_skene",
                "community_dawid_skene", "mace", "auto"}
CANDIDATES = {"majority_vote", "one_coin_dawid_skene", "dawid_skene", "bayesian_dawid_skene", "community_dawid_skene", "mace"}
DATASETS = Path(os.environ.get("ASSAY_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
runner = CliRunner()


def write_folder(path: Path, n_tasks: int = 60, gold_every: int = 2, seed: int = 0) -> Path:
    """String tasks/workers/labels; 6 workers (one careless) answer every task; truth for half."""
    rng = np.random.default_rng(seed)
    classes = ["cat", "dog", "bird"]
    accs = [0.9, 0.85, 0.8, 0.8, 0.75, 0.4]
    truth = rng.integers(0, 3, n_tasks)
    lines = ["worker,task,label"]
    for t in range(n_tasks):
        for w in rng.permutation(len(accs)):
            lab = truth[t] if rng.random() < accs[w] else (truth[t] + rng.integers(1, 3)) % 3
            lines.append(f"annotator-{w},item/{t:03d},{classes[lab]}")
    path.mkdir(parents=True, exist_ok=True)
    (path / "labels.csv").write_text("\n".join(lines) + "\n")
    gold = [f"item/{t:03d},{classes[truth[t]]}" for t in range(0, n_tasks, gold_every)]
    (path / "truth.csv").write_text("task,label\n" + "\n".join(gold) + "\n")
    return path


def invoke(*args: str):
    return runner.invoke(quality_app, list(args))


def test_eval_json_has_exactly_the_documented_shape(tmp_path):
    folder = write_folder(tmp_path / "d")
    r = invoke("eval", str(folder), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)  # exactly one JSON object, nothing else on stdout
    assert set(out) == {"methods"}
    assert set(out["methods"]) == METHOD_NAMES
    for name, m in out["methods"].items():
        extra = {"chosen", "weights", "scores", "temperature"} if name == "auto" else set()
        assert set(m) == {"accuracy", "seconds", "ece", "confident_count", "confident_share", "confident_accuracy"} | extra, name
        assert isinstance(m["accuracy"], float) and 0.0 <= m["accuracy"] <= 1.0
        assert isinstance(m["seconds"], float) and m["seconds"] >= 0.0
        assert 0.0 <= m["ece"] <= 1.0 and 0.0 <= m["confident_share"] <= 1.0
        assert m["confident_accuracy"] is None or 0.0 <= m["confident_accuracy"] <= 1.0
        assert m["confident_count"] == round(m["confident_share"] * 30)  # 30 gold tasks
    auto = out["methods"]["auto"]
    assert auto["chosen"] in CANDIDATES and set(auto["scores"]) == CANDIDATES and auto["temperature"] > 0
    assert set(auto["weights"]) <= CANDIDATES and sum(auto["weights"].values()) == pytest.approx(1.0, abs=1e-5)
    assert auto["chosen"] == max(auto["weights"], key=auto["weights"].get)
    if len(auto["weights"]) == 1:  # one model: its labels, refitted on everything (tempering keeps them)
        assert auto["accuracy"] == out["methods"][auto["chosen"]]["accuracy"]
    # 5 decent annotators out of 6: every method gets most of the 30 gold tasks right
    assert min(m["accuracy"] for m in out["methods"].values()) >= 0.8


def test_eval_accuracy_counts_only_gold_tasks(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    # t1 and t2 have answers; only t1 has truth (and t3 has truth but no answers)
    (folder / "labels.csv").write_text("worker,task,label\na,t1,1\nb,t1,1\nc,t1,2\na,t2,2\nb,t2,2\n")
    (folder / "truth.csv").write_text("task,label\nt1,2\nt3,1\n")
    out = json.loads(invoke("eval", str(folder), "--json").stdout)
    assert out["methods"]["majority_vote"]["accuracy"] == 0.0  # MV says 1 on the only scored task
    (folder / "truth.csv").write_text("task,label\nt1,1.0\n")  # numeric labels compare as numbers
    out = json.loads(invoke("eval", str(folder), "--json").stdout)
    assert out["methods"]["majority_vote"]["accuracy"] == 1.0


def test_eval_table(tmp_path):
    folder = write_folder(tmp_path / "d")
    r = invoke("eval", str(folder))
    assert r.exit_code == 0, r.output
    for name in METHOD_NAMES:
        assert name in r.stdout
    assert "scored on 30 tasks with truth" in r.stdout


def test_replay_json_has_exactly_the_documented_shape(tmp_path):
    folder = write_folder(tmp_path / "d", n_tasks=80)
    other = write_folder(tmp_path / "e", n_tasks=60, seed=1)
    r = invoke("replay", str(folder), str(other), "--target", "0.95", "--max-labels", "5", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out) == {"rule", "datasets", "summary"}
    assert out["rule"] == {"target": 0.95, "max_labels": 5, "route": True}
    assert [d["dataset"] for d in out["datasets"]] == ["d", "e"]
    for row, gold in zip(out["datasets"], (40, 30)):
        assert set(row) == {"dataset", "tasks", "adaptive", "fixed", "saved", "accuracy_change", "saved_counted"}
        assert row["tasks"] == gold
        assert row["saved"] == pytest.approx(1 - row["adaptive"]["labels"] / row["fixed"]["labels"], abs=1e-6)
        assert row["accuracy_change"] == pytest.approx(row["adaptive"]["accuracy"] - row["fixed"]["accuracy"], abs=1e-6)
        assert row["saved_counted"] == (row["saved"] if row["accuracy_change"] >= 0 else 0.0)
        for key in ("adaptive", "fixed"):
            assert set(row[key]) == {"accuracy", "labels"}
            assert isinstance(row[key]["accuracy"], float) and 0.0 <= row[key]["accuracy"] <= 1.0
            assert isinstance(row[key]["labels"], int) and not isinstance(row[key]["labels"], bool)
        assert row["fixed"]["labels"] == gold * 5  # gold tasks x the first 5 answers
        assert gold <= row["adaptive"]["labels"] < row["fixed"]["labels"]
    s = out["summary"]
    assert s["datasets"] == 2
    assert s["mean_saved"] == pytest.approx(sum(d["saved"] for d in out["datasets"]) / 2, abs=1e-6)
    assert s["mean_saved_counted"] == pytest.approx(sum(d["saved_counted"] for d in out["datasets"]) / 2, abs=1e-6)
    assert s["at_least_fixed"] == sum(d["accuracy_change"] >= 0 for d in out["datasets"])
    k3 = json.loads(invoke("replay", str(folder), "--max-labels", "3", "--arrival-order", "--json").stdout)
    assert k3["rule"]["route"] is False
    assert k3["datasets"][0]["fixed"]["labels"] == 40 * 3 and k3["datasets"][0]["adaptive"]["labels"] <= 40 * 3


def test_replay_table(tmp_path):
    folder = write_folder(tmp_path / "d")
    r = invoke("replay", str(folder), "--target", "0.9", "--max-labels", "4")
    assert r.exit_code == 0, r.output
    assert "fixed: first 4 + majority vote" in r.stdout and "most reliable worker first" in r.stdout
    row = next(line for line in r.stdout.splitlines() if line.startswith("d "))
    assert len(row.split()) == 9  # dataset, tasks, labels (adaptive, fixed), per task, saved, both accuracies, change
    assert "fewer answers on average" in r.stdout and "counted honestly" in r.stdout


@pytest.mark.parametrize(
    "labels,truth,message",
    [
        (None, "task,label\nt,1\n", "labels.csv: file not found"),
        ("worker,task,label\na,t,1\n", None, "truth.csv: file not found"),
        ("", "task,label\nt,1\n", "file is empty"),
        ("worker,task,label\n", "task,label\nt,1\n", "no data rows"),
        ("worker,item,answer\na,t,1\n", "task,label\nt,1\n", "missing column(s) task, label"),
        ("worker,task,label\na,t,1\n", "task,answer\nt,1\n", "missing column(s) label"),
        ("worker,task,label\na,t,1\nb,,1\n", "task,label\nt,1\n", "line 3: empty task"),
        ("worker,task,label\na,t,1\nb\n", "task,label\nt,1\n", "line 3: expected 3 fields"),
        ("worker,task,label\na,t,1\n", "task,label\nother,1\n", "no task in truth.csv has an answer"),
        ("worker,task,label\na,t,1\n", "task,label\nt,1\nt,2\n", "two different gold labels"),
    ],
)
@pytest.mark.parametrize("command", ["eval", "replay"])
def test_bad_input_exits_nonzero_with_a_message(tmp_path, labels, truth, message, command):
    folder = tmp_path / "d"
    folder.mkdir()
    if labels is not None:
        (folder / "labels.csv").write_text(labels)
    if truth is not None:
        (folder / "truth.csv").write_text(truth)
    r = invoke(command, str(folder), "--json")
    assert r.exit_code != 0
    assert message in r.stderr
    assert r.stdout == ""


def test_missing_folder_and_bad_options(tmp_path):
    r = invoke("eval", str(tmp_path / "nope"))
    assert r.exit_code != 0 and "no such directory" in r.stderr
    (tmp_path / "file").write_text("x")
    r = invoke("replay", str(tmp_path / "file"))
    assert r.exit_code != 0 and "not a directory" in r.stderr
    folder = write_folder(tmp_path / "d")
    r = invoke("replay", str(folder), "--target", "1.5")
    assert r.exit_code != 0 and "--target" in r.stderr
    r = invoke("replay", str(folder), "--max-labels", "0")
    assert r.exit_code != 0


def test_loader_keeps_arrival_order_and_strings(tmp_path):
    folder = write_folder(tmp_path / "d", n_tasks=5)
    ds = load_dataset(folder)
    assert ds.classes == ["bird", "cat", "dog"]
    assert ds.task_names[0] == "item/000" and ds.worker_names[0].startswith("annotator-")
    assert ds.task.size == 30 and ds.gold.size == 3
    with pytest.raises(DatasetError):
        load_dataset(tmp_path / "absent")


@pytest.mark.skipif(not (DATASETS / "labelme" / "labels.csv").is_file(), reason=f"{DATASETS}/labelme not present")
def test_eval_on_a_real_dataset():
    out = json.loads(invoke("eval", str(DATASETS / "labelme"), "--json").stdout)
    acc = {k: v["accuracy"] for k, v in out["methods"].items()}
    assert acc["dawid_skene"] >= acc["majority_vote"]
    assert acc["majority_vote"] == pytest.approx(0.756, abs=0.01)  # published MV on LabelMe: ~0.76
