"""Benchmark: the generator at scale 1 against DuckDB's TPC-H ``dbgen(sf=1)`` -> Parquet.

Both run in child processes, one after the other on the same machine, so that each one's peak
resident memory (``ru_maxrss`` from ``wait4``) and CPU time are measured by the kernel rather
than estimated from inside Python (tracemalloc misses Arrow, Polars and DuckDB buffers). The
reference is what a well-known C++ generator does for the same job: create the rows and land
every table as Parquet. Printed: rows, wall seconds, rows/s, CPU seconds, peak RSS, the ratio,
and the generator's row count per table.

Run with ``python -m engagement_lake.bench.generate`` (``make bench-generate``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

GOAL_RATIO = 1.0
GOAL_PEAK_GB = 4.0

_GENERATOR_CHILD = """
import json, sys, time
from pathlib import Path
from engagement_lake.generate import generate
r = generate(Path(sys.argv[1]), scale=float(sys.argv[2]), seed=int(sys.argv[3]), progress=False)
print(json.dumps({"rows": r.rows, "seconds": r.seconds}))
"""

_TPCH_CHILD = """
import json, sys, time
from pathlib import Path
import duckdb
out = Path(sys.argv[1]); ext = sys.argv[2]; sf = float(sys.argv[3])
con = duckdb.connect()
con.execute(f"LOAD '{ext}'")
t0 = time.perf_counter()
con.execute(f"CALL dbgen(sf={sf})")
rows = {}
for (name,) in con.execute("SHOW TABLES").fetchall():
    con.execute(f"COPY {name} TO '{out / (name + '.parquet')}' (FORMAT parquet)")
    rows[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - t0}))
"""


def tpch_extension() -> Path:
    """The tpch extension binary shipped inside the ``duckdb-extension-tpch`` package
    (``INSTALL tpch`` would need the network)."""
    import duckdb_extension_tpch

    root = Path(duckdb_extension_tpch.__file__).parent
    found = sorted(root.rglob("*.duckdb_extension"))
    if not found:
        raise FileNotFoundError(f"no .duckdb_extension file under {root}")
    return found[0]


def run_child(code: str, args: list[str]) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; return its JSON output plus kernel measurements."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed with exit code {proc.returncode}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    result["peak_rss_bytes"] = usage.ru_maxrss * 1024  # Linux reports kilobytes
    result["total_rows"] = sum(result["rows"].values())
    result["rows_per_second"] = result["total_rows"] / result["seconds"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tpch-sf", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, default=None, help="keep the generated lake here")
    args = parser.parse_args(argv)

    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 110))  # the summary table needs ~100 columns
    with tempfile.TemporaryDirectory(prefix="engagement-lake-bench-") as tmp:
        lake = args.keep or Path(tmp) / "lake"
        tpch_dir = Path(tmp) / "tpch"
        tpch_dir.mkdir(parents=True)
        console.print(f"generator: scale {args.scale} -> {lake}")
        gen = run_child(_GENERATOR_CHILD, [str(lake), str(args.scale), str(args.seed)])
        console.print(f"reference: DuckDB TPC-H dbgen(sf={args.tpch_sf}) -> Parquet")
        ref = run_child(_TPCH_CHILD, [str(tpch_dir), str(tpch_extension()), str(args.tpch_sf)])

    per_table = Table(title=f"generator rows per table (scale {args.scale})")
    per_table.add_column("table")
    per_table.add_column("rows", justify="right")
    for fqn in sorted(gen["rows"]):
        per_table.add_row(fqn, f"{gen['rows'][fqn]:,}")
    per_table.add_row("[bold]total", f"[bold]{gen['total_rows']:,}")
    console.print(per_table)

    summary = Table(title="benchmark (wall time depends on other load; CPU time does not)")
    summary.add_column("", no_wrap=True)
    for col in ("rows", "wall s", "rows/s", "CPU s", "rows/CPU s", "peak RSS"):
        summary.add_column(col, justify="right", no_wrap=True)
    for name, r in ((f"generator scale {args.scale:g}", gen), (f"TPC-H sf={args.tpch_sf:g}", ref)):
        summary.add_row(
            name,
            f"{r['total_rows']:,}",
            f"{r['seconds']:.1f}",
            f"{r['rows_per_second']:,.0f}",
            f"{r['cpu_seconds']:.1f}",
            f"{r['total_rows'] / r['cpu_seconds']:,.0f}",
            f"{r['peak_rss_bytes'] / 2**30:.2f} GB",
        )
    console.print(summary)
    ratio = gen["rows_per_second"] / ref["rows_per_second"]
    peak_gb = gen["peak_rss_bytes"] / 2**30
    ok = ratio >= GOAL_RATIO and peak_gb < GOAL_PEAK_GB
    gen_cpu = gen["total_rows"] / gen["cpu_seconds"]
    cpu_ratio = gen_cpu / (ref["total_rows"] / ref["cpu_seconds"])
    console.print(
        f"ratio generator / TPC-H rows/s: [bold]{ratio:.2f}[/bold] (goal >= {GOAL_RATIO}); "
        f"per CPU second: {cpu_ratio:.2f}"
    )
    console.print(f"generator peak RSS: [bold]{peak_gb:.2f} GB[/bold] (goal < {GOAL_PEAK_GB} GB)")
    console.print("[green]goals met[/green]" if ok else "[red]goals not met[/red]")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
