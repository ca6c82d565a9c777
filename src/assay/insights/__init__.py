"""The lead's overview: progress per project, charts over time from the activity
rollups, and label slices (bias checks)."""
