"""People: skills (routing), pay rates and payouts, timesheets, exposure to flagged content."""
