"""How long the built-in text classifier takes to retrain in the server at the many-class size:
25,000 texts in 150 classes (made-up texts from bench/active_learning.py's synthetic_texts; no
shared set has that many classes), the way ``backends.builtin.train`` does it: learn the TF-IDF
vocabulary from the finished tasks' texts, then fit the softmax model — the first version cold,
the next (after 2 % more labels) warm-started from the first by class and term.

Reported separately: vocabulary (TF-IDF) seconds, solver seconds and L-BFGS steps (wall and
this process's CPU seconds: the machine is shared), the columns the model keeps (words and
character n-grams), and the model's accuracy on 5,000 held-out texts of the same classes.

usage: python bench/textmodel_retrain.py [--texts 25000] [--classes 150]
Writes bench/results/textmodel_retrain.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
from active_learning import synthetic_texts  # noqa: E402

from assay.learning.textmodel import TextClassifier  # noqa: E402


def timed_fit(texts, labels, warm_from=None) -> tuple[TextClassifier, dict]:
    model = TextClassifier()
    t, cpu = time.perf_counter(), time.process_time()
    x = model.fit_vectorizer(texts)
    vocabulary, vocabulary_cpu = time.perf_counter() - t, time.process_time() - cpu
    t, cpu = time.perf_counter(), time.process_time()
    model.fit_vectors(x, labels, warm_from=warm_from)
    solver, solver_cpu = time.perf_counter() - t, time.process_time() - cpu
    used = model._columns if model._columns is not None else np.arange(x.shape[1])
    word_columns = int(model._vectorizer.word_columns()[used].sum())
    return model, {"vocabulary_seconds": round(vocabulary, 2), "solver_seconds": round(solver, 2),
                   "total_seconds": round(vocabulary + solver, 2), "vocabulary_cpu_seconds": round(vocabulary_cpu, 2),
                   "solver_cpu_seconds": round(solver_cpu, 2), "solver_steps": model._model.n_iter, "columns": int(x.shape[1]),
                   "columns_used": len(used), "word_columns_used": word_columns, "char_columns_used": len(used) - word_columns}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=25_000)
    parser.add_argument("--classes", type=int, default=150)
    args = parser.parse_args(argv)
    held_out = 5000
    texts, labels = synthetic_texts(args.texts + held_out, args.classes)
    train_texts, train_labels = texts[:args.texts], labels[:args.texts]
    test_texts, test_labels = texts[args.texts:], np.array(labels[args.texts:], dtype=object)
    first_n = int(round(args.texts / 1.02))
    first, cold = timed_fit(train_texts[:first_n], train_labels[:first_n])
    second, warm = timed_fit(train_texts, train_labels, warm_from=first)
    _, cold_again = timed_fit(train_texts, train_labels)  # the same fit without the warm start
    for model, entry in ((first, cold), (second, warm)):
        entry["test_accuracy"] = round(float(np.mean(np.array(model.predict(test_texts), dtype=object) == test_labels)), 4)
    result = {"texts": args.texts, "classes": args.classes, "first_version_cold": cold | {"texts": first_n},
              "next_version_warm": warm | {"texts": args.texts}, "next_version_cold": cold_again | {"texts": args.texts},
              "load_average_1min": round(os.getloadavg()[0], 2),
              "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"}
    out = ROOT / "bench" / "results" / "textmodel_retrain.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
