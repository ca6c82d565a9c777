"""``assay quality ...``: evaluate the aggregators and replay adaptive overlap offline.

Registered in the main CLI as ``assay quality``.
"""

from __future__ import annotations

import json
import math
import sys

import typer

quality_app = typer.Typer(
    help="Quality engine, offline: aggregator accuracy and adaptive-overlap replay on a label folder.",
    no_args_is_help=True,
    add_completion=False,
)

DIR_HELP = "Folder with labels.csv (worker,task,label) and truth.csv (task,label)."


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _load(folder: str):
    from assay.quality.evaluate import DatasetError, load_dataset  # noqa: PLC0415 - numpy/scipy load only when a command runs (the CLI's other commands never need them)

    try:
        return load_dataset(folder)
    except DatasetError as exc:
        _fail(str(exc))


def _num(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


@quality_app.command("eval")
def eval_command(
    folder: str = typer.Argument(..., help=DIR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    repeats: int = typer.Option(1, min=1, help="Fit each method this many times; the median time is reported."),
) -> None:
    """Accuracy (on tasks with truth) and fit time of every aggregator."""
    from assay.quality.evaluate import evaluate  # noqa: PLC0415 - numpy/scipy load only when a command runs (the CLI's other commands never need them)

    ds = _load(folder)
    report = evaluate(ds, repeats=repeats)
    methods = {}
    for name, r in report["methods"].items():
        methods[name] = {"accuracy": _num(r["accuracy"]), "seconds": round(float(r["seconds"]), 6), "ece": _num(r["ece"]),
                         "confident_count": r["confident_count"], "confident_share": _num(r["confident_share"]),
                         "confident_accuracy": _num(r["confident_accuracy"])}
        if name == "auto":
            extra = r["result"].extra
            methods[name].update(chosen=extra["chosen"], weights=extra["weights"], scores=extra["scores"],
                                 temperature=round(float(extra["temperature"]), 4))
    if as_json:
        sys.stdout.write(json.dumps({"methods": methods}) + "\n")
        return
    typer.echo(
        f"{ds.path}: {report['n_labels']} answers, {report['n_tasks']} tasks, {report['n_workers']} workers, "
        f"{report['n_classes']} classes; scored on {report['n_gold']} tasks with truth"
    )
    typer.echo(f"{'method':<26}{'accuracy':>10}{'seconds':>10}{'ECE':>8}{'n>=0.9':>8}{'share':>8}{'right':>8}")
    for name, r in methods.items():
        cells = [("n/a" if r[k] is None else f"{r[k]:.4f}") for k in ("accuracy", "ece", "confident_share", "confident_accuracy")]
        typer.echo(f"{name:<26}{cells[0]:>10}{r['seconds']:>10.3f}{cells[1]:>8}{r['confident_count']:>8}{cells[2]:>8}{cells[3]:>8}")
    if "auto" in methods:
        mix = ", ".join(f"{m} {w:.2f}" for m, w in methods["auto"]["weights"].items())
        typer.echo(f"auto mixed {mix} (weights by held-out label likelihood; temperature {methods['auto']['temperature']}); "
                   "ECE over 10 equal-width bins")


@quality_app.command("replay")
def replay_command(
    folder: str = typer.Argument(..., help=DIR_HELP),
    target: float = typer.Option(0.95, help="Stop asking when the chosen label's posterior reaches this."),
    max_labels: int = typer.Option(5, "--max-labels", "-k", min=1, help="At most this many answers per task; "
                                   "also the K of the fixed-K majority-vote baseline."),
    folds: int = typer.Option(5, min=2, help="Cross-fitting folds (a task's own answers never train its model)."),
    seed: int = typer.Option(0, help="Seed of the fold assignment."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Adaptive overlap (stop at --target confidence) vs fixed-K majority vote, on the tasks with truth."""
    from assay.quality.evaluate import replay  # noqa: PLC0415 - numpy/scipy load only when a command runs (the CLI's other commands never need them)

    if not 0.0 < target <= 1.0:
        _fail("--target must be in (0, 1]")
    ds = _load(folder)
    rep = replay(ds, target=target, max_labels=max_labels, folds=folds, seed=seed)
    out = {k: {"accuracy": _num(rep[k]["accuracy"]), "labels": int(rep[k]["labels"])} for k in ("adaptive", "fixed")}
    fixed_labels = out["fixed"]["labels"]
    out["saved"] = round(1.0 - out["adaptive"]["labels"] / fixed_labels, 6) if fixed_labels else None
    both = out["adaptive"]["accuracy"] is not None and out["fixed"]["accuracy"] is not None
    out["accuracy_change"] = round(out["adaptive"]["accuracy"] - out["fixed"]["accuracy"], 6) if both else None
    if as_json:
        sys.stdout.write(json.dumps(out) + "\n")
        return
    n = int(ds.gold.size)
    typer.echo(f"{ds.path}: replaying {n} tasks with truth, target {target}, at most {max_labels} answers per task")
    typer.echo(f"{'policy':<34}{'accuracy':>10}{'labels':>10}{'per task':>10}")
    for key, name in (("adaptive", "adaptive (Bayesian DS, cross-fit)"), ("fixed", f"fixed {max_labels} + majority vote")):
        r = out[key]
        acc = "n/a" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
        typer.echo(f"{name:<34}{acc:>10}{r['labels']:>10}{r['labels'] / max(n, 1):>10.2f}")
    if out["saved"] is not None:
        change = "" if out["accuracy_change"] is None else f", accuracy {out['accuracy_change'] * 100:+.1f} points"
        typer.echo(f"adaptive uses {out['saved']:.1%} fewer answers{change}")
