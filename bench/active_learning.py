"""Active-learning benchmark: how many human labels each strategy of assay.learning.active needs
before the built-in text classifier reaches 95 % of the accuracy it gets from the whole pool.

usage: python bench/active_learning.py DIR [--json] [--features tfidf|embeddings] [--seed N] [--repeats R] [--pool-cap N]
                                          [--label-column COL] [--strategies a,b,...] [--jobs N]
       python bench/active_learning.py synthetic:25000x150 ...   (made-up texts: the many-class timing case)
       python bench/active_learning.py --all [--json]

DIR holds items.csv (id,text,label). Protocol, the same for every strategy:
  * a stratified test split (20 %) held out with --seed; the rest is the pool (subsampled,
    stratified, to --pool-cap items: 10,000 by default, which cuts none of the datasets here);
  * features learned once from the pool texts without labels (TF-IDF vocabulary; nothing to learn
    for sentence embeddings); each round retrains only the logistic regression (C = 4, the
    classifier's default), warm-started from the previous round (same optimum, fewer iterations);
  * full_accuracy: the classifier trained on every pool item, scored on the test split;
  * the first batch (as many labels as classes, at least 10) is bought before any model exists:
    random labels a random sample, every other strategy the pool's k-means cluster centres
    (assay.learning.active.cold_start); then each buys batches of 10 labels, growing to 10 % of the labeled set once that passes 100 (so a
    run to 4,000 labels takes ~50 rounds, not 400), retraining after each;
  * R repeats (different seed sets and random streams, same split; default 3 for tfidf, 6 for
    embeddings) run in lockstep, so every strategy's accuracy is averaged at the same label counts;
  * labels_to_95pct: the first number of labels at which that averaged test accuracy is
    ≥ 0.95 × full_accuracy (per-repeat crossings are reported too); savings = random's / the best
    strategy's. Random runs over the pool until 1.5 × its crossing; every other strategy gets a
    budget of 1.5 × random's labels (null = no crossing within it: no better than random).
    Random runs first; the other strategies then run side by side, one process per core
    (--jobs; each is deterministic, so the curves do not depend on it). run_seconds is wall time,
    cpu_seconds the CPU of every process.

Crowd mode: when DIR also holds labels.csv (worker,task,label) and truth.csv (task,label), a
bought label is the majority vote of the item's real crowd answers (ties: the tied answer given
first), accuracy is scored against truth, full_accuracy trains on the crowd majority of the
whole pool, and the answers used are counted alongside the items.

Writes bench/results/active_learning_<folder>[_embeddings].json and .png; --all runs every text
folder under the datasets directory with items.csv and a label column plus sentiment_polarity,
with both feature sets (embeddings when the optional extra is installed), and writes the summary
bench/results/active_learning.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import platform
import resource
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# Single-threaded BLAS: logistic regression on a few thousand rows gains nothing from a second
# thread here, and on a busy 2-core machine the threads' hand-offs made each fit ~10x slower.
# OpenMP (scikit-learn's k-means) too: the strategies run in forked processes, one per core, and a
# child forked after OpenMP has started its thread team hangs in its first parallel region.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from assay.learning.active import NEEDS_FEATURES, cold_start, select_batch  # noqa: E402
from assay.learning.textmodel import TextClassifier, embeddings_available  # noqa: E402

DATA = Path(os.environ.get("ASSAY_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
RESULTS = ROOT / "bench" / "results"
STRATEGIES = ("random", "margin", "uncertainty_diversity", "balanced_margin")  # badge: --strategies (slower, and behind on trec)
PLOTTED = ("random", "margin", "uncertainty_diversity", "balanced_margin", "badge")
TARGET = 0.95
SEED_SIZE = 10
SMALL_BATCH = 10
STOP_FACTOR = 1.5
POOL_CAP = 10_000  # above every pool here (the largest, rt_polarity's, is 8,530): no dataset is cut
DEFAULT_REPEATS = {"tfidf": 3, "embeddings": 6}
C = 4.0  # the classifier's default; not tuned per dataset
GROWTH = 0.10  # batch = 10 % of the labeled set once that exceeds SMALL_BATCH / GROWTH


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load(folder: Path, label_column: str = "label") -> dict:
    """Texts, the label a human would sell for each item, and the gold label to score against."""
    if str(folder).startswith("synthetic:"):
        texts, labels = synthetic_texts(*(int(v) for v in str(folder).split(":")[1].split("x")))
        return {"texts": texts, "bought": labels, "gold": labels, "answers": None, "crowd": False, "dropped": 0}
    rows = read_csv(folder / "items.csv")
    if not rows or label_column not in rows[0] or "text" not in rows[0]:
        raise SystemExit(f"{folder}/items.csv needs columns id,text,{label_column}")
    crowd = (folder / "labels.csv").is_file() and (folder / "truth.csv").is_file()
    if not crowd:
        return {"texts": [r["text"] for r in rows], "bought": [r[label_column] for r in rows],
                "gold": [r[label_column] for r in rows], "answers": None, "crowd": False, "dropped": 0}
    truth = {r["task"]: r["label"] for r in read_csv(folder / "truth.csv")}
    answers: dict[str, list[str]] = defaultdict(list)
    for r in read_csv(folder / "labels.csv"):
        answers[r["task"]].append(r["label"])
    keep = [r for r in rows if r["id"] in truth and answers.get(r["id"])]
    bought, counts = [], []
    for r in keep:
        given = answers[r["id"]]
        tally = Counter(given)
        top = max(tally.values())
        bought.append(next(v for v in given if tally[v] == top))  # tie: the tied answer given first
        counts.append(len(given))
    return {"texts": [r["text"] for r in keep], "bought": bought, "gold": [truth[r["id"]] for r in keep],
            "answers": np.array(counts), "crowd": True, "dropped": len(rows) - len(keep)}


def synthetic_texts(n: int, k: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` texts in ``k`` classes for timing the many-class case (no such set is in the shared
    folder): 8,000 made-up words with Zipf-distributed frequencies; each class has 40 topic words,
    pairs of classes share half of theirs (confusable intents); a text is 6-17 words, ~35 % of
    them its class's topic words; class sizes from a Dirichlet(2) (some classes rare)."""
    rng = np.random.default_rng(seed)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "zu", "da", "fe", "gi", "ho", "ja", "ku", "le", "mo", "ni",
                 "pa", "qui", "ro", "sa", "ti", "vo", "wa", "xe", "yo", "ze", "bu"]
    vocab = sorted({"".join(rng.choice(syllables, size=rng.integers(2, 4))) for _ in range(20_000)})[:8000]
    common = rng.zipf(1.3, size=200_000) % len(vocab)
    topics = [rng.choice(len(vocab), size=40, replace=False) for _ in range(k)]
    for c in range(0, k - 1, 2):
        topics[c + 1][:20] = topics[c][:20]
    classes = rng.choice(k, size=n, p=rng.dirichlet(np.full(k, 2.0)))
    texts = []
    for c in classes:
        length = int(rng.integers(6, 18))
        on_topic = int(rng.binomial(length, 0.35))
        words = np.concatenate([rng.choice(topics[c], size=on_topic), rng.choice(common, size=length - on_topic)])
        rng.shuffle(words)
        texts.append(" ".join(vocab[i] for i in words))
    return texts, [f"class_{c:03d}" for c in classes]


def stratified_sample(labels: np.ndarray, size: int, rng: np.random.Generator, at_least_one: bool = False) -> np.ndarray:
    """Indices of a class-proportional random sample of ``size`` (largest remainders; optionally
    at least one item of every class)."""
    classes, counts = np.unique(labels, return_counts=True)
    share = counts / counts.sum() * size
    take = np.floor(share).astype(int)
    if at_least_one:
        take = np.maximum(take, 1)
    for i in np.argsort(-(share - np.floor(share)), kind="stable"):
        if take.sum() >= size:
            break
        take[i] += 1
    while take.sum() > size:  # at_least_one overshoot: trim the largest classes
        take[np.argmax(take)] -= 1
    picked = [rng.choice(np.flatnonzero(labels == c), size=min(t, n), replace=False) for c, t, n in zip(classes, take, counts)]
    return np.sort(np.concatenate(picked))


def next_batch_size(labeled: int) -> int:
    return max(SMALL_BATCH, int(round(labeled * GROWTH)))


def accuracy(model: TextClassifier, x, gold: np.ndarray) -> float:
    proba = model.predict_proba_vectors(x)
    predicted = np.asarray(model.classes, dtype=object)[proba.argmax(axis=1)]
    return float(np.mean(predicted == gold))


class Learner:
    """One labeling run of one strategy from one seed set: buy a batch, retrain, score."""

    def __init__(self, strategy: str, pool: dict, seed_set: np.ndarray, rng: np.random.Generator):
        self.strategy, self.pool, self.rng = strategy, pool, rng
        self.labeled = np.zeros(pool["x"].shape[0], dtype=bool)
        self.labeled[seed_set] = True
        self.model = TextClassifier(features=pool["features"], C=C)
        self.model._vectorizer = pool["vectorizer"]  # learned once from the pool texts, no labels
        self._retrain()

    def _retrain(self) -> None:
        idx = np.flatnonzero(self.labeled)
        # warm start: the same optimum as a fresh fit, in a fraction of the solver iterations
        self.model.fit_vectors(self.pool["x"][idx], list(self.pool["bought"][idx]), warm_start=True)

    @property
    def labels(self) -> int:
        return int(self.labeled.sum())

    @property
    def answers(self) -> int:
        counts = self.pool["answers"]
        return int(counts[self.labeled].sum()) if counts is not None else self.labels

    def score(self, x_test, gold_test) -> float:
        return accuracy(self.model, x_test, gold_test)

    def buy(self, k: int) -> None:
        unlabeled = np.flatnonzero(~self.labeled)
        x = self.pool["x"][unlabeled]
        proba = self.model.predict_proba_vectors(x)
        features = x if self.strategy in NEEDS_FEATURES else None
        index = {c: i for i, c in enumerate(self.model.classes)}
        counts = np.bincount([index[v] for v in self.pool["bought"][self.labeled]], minlength=len(index))
        self.labeled[unlabeled[select_batch(self.strategy, proba, k, features=features, rng=self.rng, class_counts=counts)]] = True
        self._retrain()


def learning_curve(strategy, pool, test, seed_sets, rngs, budget, threshold, stop_factor=STOP_FACTOR, log=None):
    """All repeats of one strategy in lockstep (same label counts), until ``budget`` labels or
    ``stop_factor`` × the labels at which the mean accuracy first reached ``threshold``.
    Returns points {labels, answers (mean over repeats), accuracy (mean), per_repeat [accuracies]}."""
    n = pool["x"].shape[0]
    learners = [Learner(strategy, pool, s, r) for s, r in zip(seed_sets, rngs)]
    points, crossed = [], None
    while True:
        per_repeat = [learner.score(test["x"], test["gold"]) for learner in learners]
        labels = learners[0].labels
        mean = float(np.mean(per_repeat))
        points.append({"labels": labels, "answers": float(np.mean([learner.answers for learner in learners])),
                       "accuracy": round(mean, 4), "per_repeat": [round(a, 4) for a in per_repeat]})
        if crossed is None and mean >= threshold:
            crossed = labels
            budget = min(budget, max(labels, int(labels * stop_factor)))
        if labels >= budget or labels >= n:
            return points
        k = min(next_batch_size(labels), n - labels)
        if log and len(points) % 10 == 0:
            log(f"    {strategy}: {labels} labels, accuracy {mean:.3f} (target {threshold:.3f})")
        for learner in learners:
            learner.buy(k)


_RUN: dict = {}  # the current dataset's pool, test split and seed sets (inherited by forked workers)


def _strategy_curve(strategy: str, budget: int) -> tuple[list, float]:
    """One strategy's learning curve over every repeat of the current run, and its seconds."""
    t = time.perf_counter()
    rngs = [np.random.default_rng([_RUN["seed"], r, 2]) for r in range(_RUN["repeats"])]
    seed_sets = _RUN["seeds"]["random" if strategy == "random" else "cluster"]
    points = learning_curve(strategy, _RUN["pool"], _RUN["test"], seed_sets, rngs, budget, _RUN["threshold"], log=_RUN["log"])
    return points, time.perf_counter() - t


def _cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (the strategy workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def crossing(points, threshold, repeat=None, key="labels", sustained=False):
    """The first point's ``key`` where accuracy (mean, or one repeat's) ≥ threshold; None if never.
    ``sustained``: the first point from which accuracy stays ≥ threshold to the end of the run."""
    found = None
    for p in points:
        acc = p["accuracy"] if repeat is None else p["per_repeat"][repeat]
        if acc >= threshold and found is None:
            found = p[key] if key == "labels" else int(round(p[key]))
            if not sustained:
                return found
        elif acc < threshold:
            found = None
    return found


def run_dataset(folder: Path, features: str = "tfidf", seed: int = 0, repeats: int | None = None, pool_cap: int = POOL_CAP,
                test_fraction: float = 0.2, seed_size: int = SEED_SIZE, write: bool = True, log=print, label_column: str = "label",
                strategies=STRATEGIES, jobs: int = 1) -> dict:
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    repeats = repeats or DEFAULT_REPEATS[features]
    data = load(folder, label_column)
    name = Path(str(folder).replace(":", "_")).name + ("" if label_column == "label" else f"_{label_column}")
    texts = np.array(data["texts"], dtype=object)
    bought = np.array(data["bought"], dtype=object)
    gold = np.array(data["gold"], dtype=object)
    rng = np.random.default_rng(seed)
    test_idx = stratified_sample(gold, int(round(len(gold) * test_fraction)), rng)
    rest = np.setdiff1d(np.arange(len(gold)), test_idx)
    pool_idx = rest if len(rest) <= pool_cap else rest[stratified_sample(gold[rest], pool_cap, rng)]

    t = time.perf_counter()
    featurizer = TextClassifier(features=features, C=C)
    pool = {"x": featurizer.fit_vectorizer(list(texts[pool_idx])), "bought": bought[pool_idx], "features": features,
            "vectorizer": featurizer._vectorizer, "answers": data["answers"][pool_idx] if data["crowd"] else None}
    test = {"x": featurizer.transform(list(texts[test_idx])), "gold": gold[test_idx]}
    feature_seconds = time.perf_counter() - t
    log(f"{name} [{features}]: {len(gold)} items, pool {len(pool_idx)}, test {len(test_idx)}, "
        f"{len(set(gold))} classes, features in {feature_seconds:.1f}s")

    featurizer.fit_vectors(pool["x"], list(pool["bought"]))
    full_accuracy = accuracy(featurizer, test["x"], test["gold"])
    threshold = TARGET * full_accuracy

    # Seed sets: the first batch is bought before any model exists, so it cannot use labels. Its
    # size is the number of classes the project declares (at least SEED_SIZE). Random labels a
    # random sample; every other strategy starts from the pool's k-means cluster centres
    # (cold_start: coverage of the label space without knowing the labels).
    n_classes = len(set(pool["bought"].tolist()))
    seed_size = max(seed_size, n_classes)
    random_seeds = [np.sort(np.random.default_rng([seed, r, 1]).choice(len(pool_idx), seed_size, replace=False)) for r in range(repeats)]
    t = time.perf_counter()
    cluster_seeds = [cold_start(pool["x"], seed_size, rng=np.random.default_rng([seed, r, 3])) for r in range(repeats)]
    log(f"  cold start: {seed_size} cluster centres x {repeats} in {time.perf_counter() - t:.1f}s, covering "
        f"{np.mean([len(set(pool['bought'][s].tolist())) for s in cluster_seeds]):.1f} classes "
        f"(random seeds: {np.mean([len(set(pool['bought'][s].tolist())) for s in random_seeds]):.1f})")
    curves, seconds = {}, {}
    global _RUN
    _RUN = {"pool": pool, "test": test, "threshold": threshold, "seed": seed, "repeats": repeats, "log": log,
            "seeds": {"random": random_seeds, "cluster": cluster_seeds}}

    def finished(strategy, points, spent):
        curves[strategy], seconds[strategy] = points, spent
        log(f"  {strategy:22s} labels_to_95pct={crossing(points, threshold)} ({len(points)} rounds x {repeats} repeats, {spent:.1f}s)")

    # random first: the others get a budget of STOP_FACTOR x its labels
    finished("random", *_strategy_curve("random", len(pool_idx)))
    reached = crossing(curves["random"], threshold)
    budget = len(pool_idx) if reached is None else min(len(pool_idx), int(reached * STOP_FACTOR))
    others = [s for s in strategies if s != "random"]
    if jobs > 1 and len(others) > 1:
        # The strategies are independent and deterministic (their own seeded generators), so they
        # run side by side, one process per core; fork shares the pool's matrices, costliest first.
        others.sort(key=lambda s: s not in NEEDS_FEATURES)
        with ProcessPoolExecutor(max_workers=min(jobs, len(others)), mp_context=multiprocessing.get_context("fork")) as workers:
            futures = {s: workers.submit(_strategy_curve, s, budget) for s in others}
            for strategy in others:
                finished(strategy, *futures[strategy].result())
    else:
        for strategy in others:
            finished(strategy, *_strategy_curve(strategy, budget))
    curves = {s: curves[s] for s in strategies}

    result = summarise(name, features, data, pool_idx, test_idx, full_accuracy, threshold, curves, seconds, seed, repeats,
                       pool_cap, seed_size, feature_seconds)
    result["run_seconds"] = round(time.perf_counter() - started, 1)
    result["cpu_seconds"] = round(_cpu_seconds() - cpu_started, 1)
    result["jobs"] = jobs
    result["load_average_at_end"] = round(os.getloadavg()[0], 2)
    if write:
        stem = f"active_learning_{name}" + ("_embeddings" if features == "embeddings" else "")
        RESULTS.mkdir(parents=True, exist_ok=True)
        result["plot"] = f"results/{stem}.png"
        (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
        plot(result, RESULTS / f"{stem}.png")
    return result


def summarise(name, features, data, pool_idx, test_idx, full_accuracy, threshold, curves, seconds, seed, repeats, pool_cap, seed_size,
              feature_seconds) -> dict:
    strategies = {}
    for strategy, points in curves.items():
        entry = {
            "labels_to_95pct": crossing(points, threshold),
            "labels_to_95pct_per_repeat": [crossing(points, threshold, repeat=r) for r in range(repeats)],
            # a curve can cross and dip below again (a model flipping after a batch of one class):
            # the count from which it stays above, to the end of the run
            "labels_to_95pct_sustained": crossing(points, threshold, sustained=True),
            "labels_run": points[-1]["labels"],
            "final_accuracy": points[-1]["accuracy"],
            "seconds_per_repeat": round(seconds[strategy] / repeats, 1),
            "curve": points,
        }
        if data["crowd"]:
            entry["answers_to_95pct"] = crossing(points, threshold, key="answers")
        strategies[strategy] = entry
    random_labels = strategies["random"]["labels_to_95pct"]
    others = {s: v["labels_to_95pct"] for s, v in strategies.items() if s != "random" and v["labels_to_95pct"] is not None}
    best = min(others, key=others.get) if others else None
    savings = round(random_labels / others[best], 2) if best and random_labels else None
    random_sustained = strategies["random"]["labels_to_95pct_sustained"]
    others_sustained = {s: v["labels_to_95pct_sustained"] for s, v in strategies.items()
                        if s != "random" and v["labels_to_95pct_sustained"] is not None}
    best_sustained = min(others_sustained, key=others_sustained.get) if others_sustained else None
    result = {
        "dataset": name,
        "features": features,
        "crowd": data["crowd"],
        "items": len(data["gold"]),
        "classes": len(set(data["gold"])),
        "pool": int(len(pool_idx)),
        "test": int(len(test_idx)),
        "full_accuracy": round(full_accuracy, 4),
        "threshold_accuracy": round(threshold, 4),
        "strategies": strategies,
        "best_strategy": best,
        "savings_ratio": savings,
        "target_3x_met": bool(savings is not None and savings >= 3),
        "best_strategy_sustained": best_sustained,
        "savings_ratio_sustained": round(random_sustained / others_sustained[best_sustained], 2)
        if best_sustained and random_sustained else None,
        "settings": {"seed": seed, "repeats": repeats, "pool_cap": pool_cap, "seed_size": seed_size, "test_fraction": 0.2,
                     "seeds": "random: a random sample; others: k-means cluster centres of the pool (cold_start)",
                     "batch": f"{SMALL_BATCH}, then {int(GROWTH * 100)}% of the labeled set", "C": C,
                     "budget": f"random: the pool (stopping at {STOP_FACTOR}x its crossing); others: {STOP_FACTOR}x random's crossing",
                     "labels_to_95pct": "first label count where the accuracy averaged over the repeats reaches 95% of full_accuracy",
                     "model": "logistic regression on " + ("TF-IDF words 1-2 + chars 2-5" if features == "tfidf" else
                                                            "all-MiniLM-L6-v2 sentence embeddings")},
        "feature_seconds": round(feature_seconds, 1),
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
    }
    if random_labels is None and best:
        result["savings_ratio_at_least"] = round(len(pool_idx) / others[best], 2)
        result["note"] = "random never reached 95% of full accuracy within the pool; the ratio is a lower bound"
    elif random_labels is not None and best is None:
        result["note"] = f"no strategy reached 95% of full accuracy within {STOP_FACTOR}x random's labels"
    if data["crowd"]:
        answers = data["answers"]
        bought, gold = np.array(data["bought"], dtype=object), np.array(data["gold"], dtype=object)
        result["crowd_majority_accuracy_on_pool"] = round(float(np.mean(bought[pool_idx] == gold[pool_idx])), 4)
        result["answers_per_item"] = round(float(answers.mean()), 2)
        result["items_without_answers_or_truth"] = data["dropped"]
        ra = strategies["random"].get("answers_to_95pct")
        ba = strategies[best].get("answers_to_95pct") if best else None
        result["answers_savings_ratio"] = round(ra / ba, 2) if ra and ba else None
    return result


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    shown = [s for s in PLOTTED if s in result["strategies"]]
    for strategy, colour in zip(shown, ("tab:gray", "tab:blue", "tab:red", "tab:green", "tab:purple")):
        points = result["strategies"][strategy]["curve"]
        xs, ys = [p["labels"] for p in points], [p["accuracy"] for p in points]
        crossing = result["strategies"][strategy]["labels_to_95pct"]
        ax.plot(xs, ys, marker=".", ms=3, lw=1.4, color=colour, label=f"{strategy} ({crossing if crossing else 'not reached'})")
    ax.axhline(result["full_accuracy"], color="black", lw=0.8, ls="--", label=f"whole pool ({result['pool']}): {result['full_accuracy']:.3f}")
    ax.axhline(result["threshold_accuracy"], color="black", lw=0.8, ls=":", label="95% of that")
    ax.set_xscale("log")
    ax.set_xlabel("human labels (items)" + (", each the majority of its crowd answers" if result["crowd"] else ""))
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{result['dataset']} — {result['features']}")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def table(result: dict) -> str:
    lines = [f"{result['dataset']} [{result['features']}]  items {result['items']}, pool {result['pool']}, test {result['test']}, "
             f"classes {result['classes']}; full accuracy {result['full_accuracy']:.3f} → target {result['threshold_accuracy']:.3f}",
             f"  {'strategy':24s} {'labels_to_95pct':>15s} {'sustained':>10s} {'per repeat':>20s} {'final acc':>9s} {'s/repeat':>8s}"]
    for name, s in result["strategies"].items():
        crossed = str(s["labels_to_95pct"]) if s["labels_to_95pct"] is not None else "not reached"
        each = ",".join(str(v) if v is not None else "-" for v in s["labels_to_95pct_per_repeat"])
        stays = str(s["labels_to_95pct_sustained"]) if s["labels_to_95pct_sustained"] is not None else "-"
        lines.append(f"  {name:24s} {crossed:>15s} {stays:>10s} {each:>20s} {s['final_accuracy']:9.3f} {s['seconds_per_repeat']:8.1f}")
    ratio = result["savings_ratio"]
    lines.append(f"  best: {result['best_strategy']}, savings vs random: {ratio if ratio is not None else 'n/a'}"
                 f"{'' if ratio is None else ('x (target 3x met)' if ratio >= 3 else 'x (target 3x missed)')}; "
                 f"sustained: {result['savings_ratio_sustained']}x ({result['best_strategy_sustained']}); run {result['run_seconds']}s")
    return "\n".join(lines)


def dataset_folders() -> list[Path]:
    """Every text folder with items.csv and a label column, plus the crowd-labelled sentiment set."""
    found = []
    for folder in sorted((DATA / "text").iterdir()):
        items = folder / "items.csv"
        if items.is_file():
            with open(items, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f), [])
            if "label" in header and "text" in header:
                found.append(folder)
    if (DATA / "sentiment_polarity" / "items.csv").is_file():
        found.append(DATA / "sentiment_polarity")
    return found


def run_all(seed: int = 0, repeats: int | None = None, pool_cap: int = POOL_CAP, log=print, jobs: int = 1) -> dict:
    started = time.perf_counter()
    feature_sets = ["tfidf"] + (["embeddings"] if embeddings_available() else [])
    runs = []
    for features in feature_sets:
        many = [(DATA / "text" / "trec", "label_fine")] if (DATA / "text" / "trec" / "items.csv").is_file() else []
        for folder, column in [(f, "label") for f in dataset_folders()] + many:  # + trec's 50 fine classes
            result = run_dataset(folder, features=features, seed=seed, repeats=repeats, pool_cap=pool_cap, log=log,
                                 label_column=column, jobs=jobs)
            log(table(result))
            runs.append(result)
    summary = {
        "runs": [{k: v for k, v in r.items() if k != "strategies"} | {
            "labels_to_95pct": {s: v["labels_to_95pct"] for s, v in r["strategies"].items()},
            "labels_to_95pct_sustained": {s: v["labels_to_95pct_sustained"] for s, v in r["strategies"].items()},
            "seconds_per_repeat": {s: v["seconds_per_repeat"] for s, v in r["strategies"].items()},
        } | ({"answers_to_95pct": {s: v.get("answers_to_95pct") for s, v in r["strategies"].items()}} if r["crowd"] else {})
            for r in runs],
        "feature_sets": feature_sets,
        "embeddings_installed": embeddings_available(),
        "target": "best strategy needs >= 3x fewer labels than random to reach 95% of full-pool accuracy",
        "target_met": {f"{r['dataset']}/{r['features']}": r["target_3x_met"] for r in runs},
        "total_seconds": round(time.perf_counter() - started, 1),
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "active_learning.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", nargs="?", type=Path, help="folder with items.csv (id,text,label)")
    parser.add_argument("--all", action="store_true", help="every text dataset + sentiment_polarity, both feature sets")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--features", choices=["tfidf", "embeddings"], default="tfidf")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"seed sets per strategy (default {DEFAULT_REPEATS['tfidf']} for tfidf, {DEFAULT_REPEATS['embeddings']} "
                             "for embeddings, whose rounds cost little)")
    parser.add_argument("--pool-cap", type=int, default=POOL_CAP)
    parser.add_argument("--label-column", default="label", help="items.csv column holding the label (e.g. trec's label_fine)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated; random always runs first")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes for the strategies after random (default: one per core; 1: one after the other)")
    args = parser.parse_args(argv)
    strategies = ["random"] + [s for s in args.strategies.split(",") if s and s != "random"]
    if args.all == (args.dir is not None):
        parser.error("give a dataset folder or --all")
    log = (lambda *a, **k: print(*a, file=sys.stderr, **k)) if args.json else print
    if args.all:
        summary = run_all(args.seed, args.repeats, args.pool_cap, log=log, jobs=args.jobs)
        if args.json:
            print(json.dumps(summary))
        else:
            print(f"total {summary['total_seconds']}s; wrote {RESULTS / 'active_learning.json'}")
        return
    if not str(args.dir).startswith("synthetic:") and not (args.dir / "items.csv").is_file():
        parser.error(f"{args.dir} has no items.csv (or give synthetic:NxK, e.g. synthetic:25000x150)")
    result = run_dataset(args.dir, features=args.features, seed=args.seed, repeats=args.repeats, pool_cap=args.pool_cap, log=log,
                         label_column=args.label_column, strategies=strategies, jobs=args.jobs)
    if args.json:
        print(json.dumps(result))
    else:
        print(table(result))


if __name__ == "__main__":
    main()
