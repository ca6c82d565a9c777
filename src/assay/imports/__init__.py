"""Imports: files of tasks (CSV, JSON lines, JSON, COCO, YOLO, CoNLL, a zip of media)
parsed into task bodies with their line numbers by pure parsers (one module per family),
checked row by row against the project before anything is stored, then stored all or
nothing (tasks/service/imports.py), with existing annotations as pre-labels or gold."""
