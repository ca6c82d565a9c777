"""``assay quality ...``: evaluate the aggregators and replay adaptive overlap offline.

Registered in the main CLI as ``assay quality``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

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
    folders: list[str] = typer.Argument(..., help=DIR_HELP + " One or more; one row each."),
    target: float = typer.Option(0.97, help="Stop asking when the leading answer's cautious posterior reaches this "
                                 "(or, on hard data, the accuracy expected of fixed-K majority vote + 0.05)."),
    max_labels: int = typer.Option(5, "--max-labels", "-k", min=1, help="At most this many answers per task; "
                                   "also the K of the fixed-K majority-vote baseline."),
    route: bool = typer.Option(True, "--route/--arrival-order", help="Ask the most reliable worker who answered the task "
                               "next, or take the answers in the order they arrived."),
    folds: int = typer.Option(5, min=2, help="Cross-fitting folds (a task's own answers never train its model)."),
    seed: int = typer.Option(0, help="Seed of the fold assignment."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Adaptive overlap vs fixed-K majority vote on the tasks with truth: both accuracies, labels and the saving per folder."""
    from assay.quality.adaptive import StopRule  # noqa: PLC0415 - numpy/scipy load only when a command runs (the CLI's other commands never need them)
    from assay.quality.evaluate import replay  # noqa: PLC0415 - as above

    if not 0.0 < target <= 1.0:
        _fail("--target must be in (0, 1]")
    rule = StopRule(target=target, max_labels=max_labels, route=route)
    rows = [_replay_row(_load(folder), rule, folds, seed, replay) for folder in folders]
    summary = _replay_summary(rows)
    if as_json:
        sys.stdout.write(json.dumps({"rule": {"target": target, "max_labels": max_labels, "route": route}, "datasets": rows,
                                     "summary": summary}) + "\n")
        return
    order = "most reliable worker first" if route else "arrival order"
    typer.echo(f"adaptive: target {target}, at most {max_labels} answers per task, {order}; fixed: first {max_labels} + majority vote; "
               "on the tasks with truth")
    typer.echo(f"{'':<35}{'labels':-^20}{'':<18}{'accuracy':-^18}")
    typer.echo(f"{'dataset':<28}{'tasks':>7}{'adaptive':>10}{'fixed':>10}{'per task':>10}{'saved':>8}{'adaptive':>10}{'fixed':>8}{'change':>8}")
    for r in rows:
        acc = [("n/a" if x is None else f"{x:.4f}") for x in (r["adaptive"]["accuracy"], r["fixed"]["accuracy"])]
        saved = "n/a" if r["saved"] is None else f"{r['saved']:.1%}"
        change = "n/a" if r["accuracy_change"] is None else f"{r['accuracy_change'] * 100:+.1f}"
        typer.echo(f"{r['dataset'][:28]:<28}{r['tasks']:>7}{r['adaptive']['labels']:>10}{r['fixed']['labels']:>10}"
                   f"{r['adaptive']['labels'] / max(r['tasks'], 1):>10.2f}{saved:>8}{acc[0]:>10}{acc[1]:>8}{change:>8}")
    if summary["mean_saved"] is not None:
        typer.echo(f"adaptive uses {summary['mean_saved']:.1%} fewer answers on average; accuracy at least fixed's on "
                   f"{summary['at_least_fixed']} of {summary['datasets']}; counted honestly (no saving where accuracy drops) "
                   f"{summary['mean_saved_counted']:.1%}")


def _replay_row(ds, rule, folds: int, seed: int, replay) -> dict:
    rep = replay(ds, rule, folds=folds, seed=seed)
    row = {"dataset": Path(ds.path).name or str(ds.path), "tasks": int(ds.gold.size)}
    for k in ("adaptive", "fixed"):
        row[k] = {"accuracy": _num(rep[k]["accuracy"]), "labels": int(rep[k]["labels"])}
    for k in ("saved", "accuracy_change", "saved_counted"):
        row[k] = None if _num(rep[k]) is None else round(float(rep[k]), 6)
    return row


def _replay_summary(rows: list[dict]) -> dict:
    scored = [r for r in rows if r["saved"] is not None and r["accuracy_change"] is not None]
    n = len(scored)
    return {"datasets": len(rows),
            "mean_saved": round(sum(r["saved"] for r in scored) / n, 6) if n else None,
            "mean_saved_counted": round(sum(r["saved_counted"] for r in scored) / n, 6) if n else None,
            "at_least_fixed": sum(r["accuracy_change"] >= 0 for r in scored)}
