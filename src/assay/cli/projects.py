"""`assay projects policy`: show or change a project's quality policy."""

from __future__ import annotations

import orjson
import typer

from assay.cli.common import admin_principal, fail, organization_named, ready
from assay.db import get_db
from assay.errors import ApiError
from assay.projects import service as projects
from assay.projects.schemas import ProjectSettingsBody
from assay.schemas import validate

app = typer.Typer(help="Project settings: quality policy, review, gold.", no_args_is_help=True)
POLICY_KEYS = ("labels_per_task", "max_labels", "target_confidence", "review_fraction", "review_below", "gold_rate", "qualification_size",
               "pause_below", "aggregation")


@app.command("policy")
def projects_policy(
    project: str = typer.Argument(..., help="Project name."),
    org: str = typer.Option("demo", "--org"),
    labels: int = typer.Option(None, "--labels", help="Labels per task (the minimum)."),
    max_labels: int = typer.Option(None, "--max-labels", help="At most this many labels (adaptive overlap); 0 clears."),
    target_confidence: float = typer.Option(None, "--target-confidence", help="Ask for another label while the consensus is below this; 0 clears."),
    review_fraction: float = typer.Option(None, "--review-fraction", help="Share of tasks a reviewer checks (0-1)."),
    review_below: float = typer.Option(None, "--review-below", help="Review every task whose confidence is below this; 0 clears."),
    gold_rate: float = typer.Option(None, "--gold-rate", help="Share of claims that serve a gold item (0-1)."),
    qualification: int = typer.Option(None, "--qualification", help="Gold items a labeler answers before real work."),
    pause_below: float = typer.Option(None, "--pause-below", help="Pause labelers whose gold accuracy is below this; 0 clears."),
    aggregation: str = typer.Option(None, "--aggregation", help="auto, majority_vote, weighted_majority_vote, dawid_skene, one_coin_dawid_skene or glad."),
) -> None:
    """Show or change a project's quality policy; prints the settings as JSON."""
    ready()
    cleared = {"max_labels": max_labels, "target_confidence": target_confidence, "review_below": review_below, "pause_below": pause_below}
    changes = {k: (None if v == 0 else v) for k, v in cleared.items() if v is not None}
    changes.update({k: v for k, v in {"labels_per_task": labels, "review_fraction": review_fraction, "gold_rate": gold_rate,
                                      "qualification_size": qualification, "aggregation": aggregation}.items() if v is not None})
    try:
        with get_db().write() as session:
            principal = admin_principal(session, organization_named(session, org))
            row = projects.get_project(session, principal, project)
            if changes:
                projects.update_settings(session, principal, row, validate(ProjectSettingsBody, changes))
            settings = projects.settings_json(row)
    except ApiError as exc:
        fail(exc.message)
    print(orjson.dumps({"project": settings["name"], **{k: settings[k] for k in POLICY_KEYS}}).decode())
