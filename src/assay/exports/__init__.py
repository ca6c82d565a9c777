"""Exports: a project's tasks in the formats training pipelines load (formats/, one pure
module per format), read with set-based queries and streamed (service/query.py), and run
as background jobs with progress and a download link (service/jobs.py)."""
