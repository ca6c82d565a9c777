"""Model leaderboards over a set of chat projects: judgements read from answers
(`judgements.py`), the fits and their JSON (`board.py`), CSV and the SVG chart
(`chart.py`)."""
