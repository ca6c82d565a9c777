"""Demo first start: how long `assay serve`'s first start takes with the demo organization
(migrations, the admin, the demo projects and files, and the week of simulated history in
src/assay/demo_history.py), and how much of it the history is.

Each repeat runs in a fresh process on a fresh database (SQLite in a temporary data dir,
or a new PostgreSQL database), the way a first `make run` does; wall and CPU seconds of
the whole first start and of the history alone.

Prints a table and writes bench/results/demo_start.json.

usage: python bench/demo_start.py [--backends sqlite,postgres] [--repeat 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
from datetime import datetime  # noqa: E402

import orjson  # noqa: E402

from tests.support import create_pg_database, drop_pg_database  # noqa: E402

# one first start, timed from inside the process (no server: bootstrap is what serve runs first)
CHILD = """
import time, orjson
import assay.demo as demo
spent = {}
orig = demo.simulate_week
def timed(*a, **k):
    t, c = time.perf_counter(), time.process_time()
    out = orig(*a, **k)
    spent.update(history_wall=time.perf_counter() - t, history_cpu=time.process_time() - c)
    return out
demo.simulate_week = timed
from assay.bootstrap import bootstrap
t, c = time.perf_counter(), time.process_time()
bootstrap()
print(orjson.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c, **spent}).decode())
"""


def once(backend: str) -> dict:
    url = create_pg_database() if backend == "postgres" else ""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update({"ASSAY_DATA_DIR": tempfile.mkdtemp(prefix="bench-demo-"), "ASSAY_DEMO": "true", **({"ASSAY_DATABASE_URL": url} if url else {})})
    try:
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=600, check=True)
        return orjson.loads(out.stdout.strip().splitlines()[-1])
    finally:
        if url:
            drop_pg_database(url)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for backend in args.backends.split(","):
        samples = [once(backend) for _ in range(args.repeat)]
        row = {"backend": backend, "repeat": args.repeat, "load_average": [round(x, 2) for x in os.getloadavg()]}
        for key in ("wall", "cpu", "history_wall", "history_cpu"):
            row[f"{key}_median_s"] = round(statistics.median(s[key] for s in samples), 2)
        runs.append(row)
        print(f"{backend:9s} first start {row['wall_median_s']:5.2f} s wall ({row['cpu_median_s']:.2f} s CPU); "
              f"of which the week of history {row['history_wall_median_s']:.2f} s wall ({row['history_cpu_median_s']:.2f} s CPU); "
              f"load {row['load_average']}")
    out = ROOT / "bench" / "results" / "demo_start.json"
    out.write_bytes(orjson.dumps({"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
                                  "at": datetime.utcnow().isoformat(timespec="seconds"), "runs": runs}, option=orjson.OPT_INDENT_2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
