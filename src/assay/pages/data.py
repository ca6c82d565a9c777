"""The admin pages for data in and out: a new project from a template, and a project's
import page (upload, preview with every row's error, import). The project page's export
section is in admin.py. JSON twins: GET /api/project-templates, POST …/imports/preview."""

from __future__ import annotations

from fastapi import APIRouter, Request

from assay.auth.principals import Principal
from assay.authz import authorize
from assay.db import get_db
from assay.imports.media import FORMATS as IMPORT_FORMATS
from assay.pages.render import guarded, render
from assay.projects.policies import ProjectPolicy
from assay.projects.service import get_project_by_id
from assay.projects.templates import TEMPLATES
from assay.tasks.service.imports import MODES

router = APIRouter(include_in_schema=False)


@router.get("/admin/projects/new")
@guarded
def new_project_page(request: Request, principal: Principal):
    authorize(principal, ProjectPolicy.manage)
    return render("admin_project_new.html", request, templates=[t.json() for t in TEMPLATES.values()])


@router.get("/admin/projects/{project_id}/import")
@guarded
def import_page(request: Request, principal: Principal, project_id: str):
    authorize(principal, ProjectPolicy.manage)
    with get_db().read() as session:
        project = get_project_by_id(session, principal, project_id)
    return render("admin_import.html", request, project=project, formats=IMPORT_FORMATS, modes=MODES)
