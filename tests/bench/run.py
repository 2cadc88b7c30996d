"""Run the benchmarks (``nox -s bench``): every figure next to a baseline measured in the same
run on the same machine, as medians of repeated runs; a table on stdout and
``.bench/results.json`` (a list of {name, value, unit, baseline, baseline_value, ratio})."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import ledger_bench as lb  # noqa: E402
from pgserver import PgServer, _as_postgres, create_database, postgres_server  # noqa: E402

RESULTS: list[dict[str, object]] = []


def median_of(fn: Callable[[], float], repeats: int) -> float:
    return statistics.median(fn() for _ in range(repeats))


def record(name: str, value: float, unit: str, baseline: str, baseline_value: float) -> None:
    ratio = value / baseline_value if baseline_value else 0.0
    RESULTS.append(
        {
            "name": name,
            "value": round(value, 1),
            "unit": unit,
            "baseline": baseline,
            "baseline_value": round(baseline_value, 1),
            "ratio": round(ratio, 2),
        }
    )
    print(
        f"  {name:<38} {value:>12,.0f} {unit:<12} {baseline:<34} {baseline_value:>10,.0f}  x{ratio:.2f}",
        flush=True,
    )


def pgbench_tps(server: PgServer, clients: int, seconds: int) -> float:
    base = [server.tool("pgbench"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres"]
    out = subprocess.run(
        _as_postgres(
            [
                *base,
                "-b",
                "tpcb-like",
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(seconds),
                "-n",
                "pgbench",
            ]
        ),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(r"tps = ([\d.]+)", out)
    assert m, out
    return float(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0, help="length of one measurement")
    ap.add_argument("--repeats", type=int, default=3, help="measurements per figure (median)")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients (pgbench too)")
    args = ap.parse_args()
    secs, reps = args.seconds, args.repeats
    print(f"wagerkit benchmarks: median of {reps} x {secs:.0f}s, {args.clients} clients\n")
    print(
        f"  {'figure':<38} {'value':>12} {'unit':<12} {'baseline (same run)':<34} {'baseline':>10}  ratio"
    )

    dict_rate = median_of(lambda: lb.dict_baseline(secs), reps)
    for b in (1, 100):
        record(
            f"ledger in memory, batch {b}",
            median_of(lambda b=b: lb.memory_rate(b, secs), reps),
            "transfers/s",
            "plain dict updates (no rules)",
            dict_rate,
        )

    with tempfile.TemporaryDirectory() as tmp:
        raw = median_of(lambda: lb.sqlite_raw_baseline(f"{tmp}/raw.db", secs), reps)
        for b in (1, 100):
            url = f"sqlite:///{tmp}/ledger{b}.db"
            record(
                f"ledger on SQLite, batch {b}",
                median_of(lambda url=url, b=b: lb.sqlite_rate(url, b, secs)[0], reps),
                "transfers/s",
                "sqlite3 1-row durable tx/s",
                raw,
            )

    with postgres_server() as pg:
        create_database(pg, "pgbench")
        subprocess.run(
            _as_postgres(
                [
                    pg.tool("pgbench"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(pg.port),
                    "-U",
                    "postgres",
                    "-i",
                    "-s",
                    "10",
                    "-q",
                    "pgbench",
                ]
            ),
            capture_output=True,
            check=True,
        )
        tps = median_of(lambda: pgbench_tps(pg, args.clients, int(secs)), reps)
        url = create_database(pg, "ledger")
        from wagerkit.adapters.sql import SqlStore

        async def prepare() -> list[int]:
            store = SqlStore.from_url(url)
            await store.create_all()
            ids = await lb.setup_accounts(store)
            await store.dispose()
            return ids

        ids = asyncio.run(prepare())
        for b in (1, 10, 100):
            rate = median_of(
                lambda b=b: lb.sql_rate(
                    url, ids, b, args.clients, 2, secs, f"pg{b}-{id(object())}"
                ),
                reps,
            )
            record(
                f"ledger on PostgreSQL, batch {b}",
                rate,
                "transfers/s",
                f"pgbench tpcb-like tps, {args.clients} clients",
                tps,
            )

    out = Path(".bench")
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(RESULTS, indent=2) + "\n")
    print(f"\nwrote {out / 'results.json'}")


if __name__ == "__main__":
    main()
