"""The benchmark runner: `python -m benchmarks [--scale quick|10k|100k|1m|10m ...] [--year] ...`.

For each requested scale it generates (once, untimed) a landing zone of that many orders with their
feedback and sessions, then measures each side of every comparison in its own child process on the
same data, checks that the sides produced the same output, and only then records a ratio. Results
are merged into docs/benchmarks.json (one record per scenario and scale, with the command that
produced it) and rendered to docs/benchmarks.md and the chart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import shutil
import sys
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks import report
from benchmarks.datasets import START, TZ, Dataset, ensure_landing, label, parse_count
from benchmarks.measure import Measured, run_measured
from benchmarks.selection import CLI_SELECT

ROOT = Path(__file__).resolve().parent.parent
QUICK_SCALES = (10_000, 100_000)
SCALE_DAYS = 30
YEAR_DAYS = 365
LATE_DAYS = 7
CLI_PRESETS: dict[str, dict[str, object] | None] = {
    "default": None,  # the executor the Definitions configure (multiprocess, forkserver since 2e740ee)
    "sequential": {"execution": {"config": {"max_concurrent": 1}}},  # the same executor, one step at a time
}


class Runner:
    """Shared settings of one benchmark invocation."""

    def __init__(self, args: argparse.Namespace, argv: Sequence[str] | None = None) -> None:
        self.args = args
        self.work = Path(args.work_dir).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.timeout = args.timeout
        self.memory_cap_mb = args.memory_cap_gb * 1024
        self.command = " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)])
        self.store = report.load_store(Path(args.results))

    # ----------------------------------------------------------------- helpers
    def env(self, landing: Path, url: str, export_dir: Path, home: Path | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "AFTER_SALES_LANDING_DIR": str(landing),
                "AFTER_SALES_WAREHOUSE_URL": url,
                "AFTER_SALES_EXPORT_DIR": str(export_dir),
                "AFTER_SALES_TIMEZONE": TZ,
                "AFTER_SALES_START_DATE": START.isoformat(),
                "AFTER_SALES_LATE_ARRIVAL_DAYS": str(LATE_DAYS),
                "GX_ANALYTICS_ENABLED": "false",
                "PYTHONWARNINGS": "ignore",
            }
        )
        if home is not None:
            env["DAGSTER_HOME"] = str(home)
        return env

    def child(
        self,
        label_: str,
        task: str,
        payload: dict[str, object],
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        log_dir: Path | None = None,
        quiet: bool = False,
    ) -> Measured:
        cmd = [sys.executable, "-m", "benchmarks.child", task, json.dumps(payload, default=str)]
        log = (log_dir or self.work) / f"{label_}.log"
        m = run_measured(
            label_,
            cmd,
            env=env or self.env(Path("."), "duckdb:///:memory:", self.work),
            cwd=ROOT,
            timeout=timeout or self.timeout,
            memory_cap_mb=self.memory_cap_mb,
            log_path=log,
        )
        if not quiet or not m.ok:
            self.say(
                f"    {label_:<28} {m.status:<10} work {_fmt(m.result.get('seconds'))} s, "
                f"wall {m.wall_seconds:.2f} s, peak RSS {m.peak_rss_mb:,.0f} MB"
            )
        if m.status == "failed":
            self.say(f"      failed, log {log}:\n" + "\n".join("      " + ln for ln in m.log.splitlines()[-15:]))
        return m

    def dagster_cli(
        self,
        label_: str,
        landing: Path,
        db: Path,
        export_dir: Path,
        partitions: str,
        preset: str,
        log_dir: Path,
        select: str = "marts",
        home: Path | None = None,
    ) -> Measured:
        """`dagster asset materialize --select ...` over a partition range, as a user runs it."""
        home = home or log_dir / f"dagster_home_{label_}"
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        cmd = [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "-m",
            "after_sales.definitions",
            "--select",
            CLI_SELECT[select],
        ]
        cmd += ["--partition-range", partitions] if "..." in partitions else ["--partition", partitions]
        config = CLI_PRESETS[preset]
        if config is not None:
            cmd += ["--config-json", json.dumps(config)]
        env = self.env(landing, f"duckdb:///{db}", export_dir, home)
        m = run_measured(
            label_,
            cmd,
            env=env,
            cwd=ROOT,
            timeout=self.timeout,
            memory_cap_mb=self.memory_cap_mb,
            log_path=log_dir / f"{label_}.log",
        )
        stats = self.child(
            f"{label_}-stats", "dagster-stats", {"home": str(home)}, env=env, log_dir=log_dir, quiet=True
        )
        m.result = {
            "seconds": stats.result.get("run_seconds") if m.ok else None,
            "run_status": stats.result.get("status"),
            "steps": stats.result.get("steps", {}),
            "preset": preset,
            "select": select,
            "executor": stats.result.get("executor"),
            "forkserver": stats.result.get("forkserver"),
        }
        if m.ok and stats.result.get("status") != "SUCCESS":
            m.status = "failed"
        self.say(
            f"    {label_:<28} {m.status:<10} run {_fmt(m.result.get('seconds'))} s, "
            f"wall {m.wall_seconds:.2f} s, peak RSS {m.peak_rss_mb:,.0f} MB (tree), "
            f"{m.peak_single_rss_mb:,.0f} MB (largest process)"
        )
        if m.status == "failed":
            self.say("      failed:\n" + "\n".join("      " + ln for ln in m.log.splitlines()[-15:]))
        return m

    def say(self, text: str) -> None:
        print(text, flush=True)

    def dataset(self, ds: Dataset) -> tuple[Path, dict[str, object]]:
        began = time.perf_counter()
        # In a process of its own: Linux hands a forked child its parent's resident size as the start of its
        # ru_maxrss (kept across exec), so a parent grown by generating data would inflate every side's peak.
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            landing, info = pool.submit(ensure_landing, ds, self.work, self.args.fresh).result()
        rows = info["rows"]
        self.say(
            f"  data {ds.name}: {rows['orders']:,} orders, {rows['feedback']:,} feedback, "  # type: ignore[index]
            f"{rows['behaviour']:,} sessions over {ds.days} days (ready in {time.perf_counter() - began:.1f} s)"
        )  # type: ignore[index]
        return landing, info

    def record(self, key: str, payload: dict[str, object]) -> None:
        payload.update(
            {
                "key": key,
                "command": self.command,
                "measured_at": _now(),
                "machine": report.machine(),
                "code": _code_version(),
            }
        )
        self.store["records"][key] = payload
        report.save_store(Path(self.args.results), self.store)

    # --------------------------------------------------------------- scenarios
    def workorders(self, orders: int) -> None:
        ds = Dataset(orders, SCALE_DAYS)
        self.say(f"\n== work orders, {label(orders)} orders: our transforms vs the seed loop")
        landing, info = self.dataset(ds)
        run_dir = self.work / "runs" / f"workorders-{ds.name}"
        _fresh_dir(run_dir)
        staged = self.work / "data" / ds.name / "staged"
        start, end = ds.first_day, ds.last_day + dt.timedelta(days=1)
        if not (staged / "feedback.parquet").exists() or self.args.fresh:
            self.child(
                "stage (not timed)",
                "stage",
                {"landing": str(landing), "start": start.isoformat(), "end": end.isoformat(), "out_dir": str(staged)},
                env=self.env(landing, "duckdb:///:memory:", run_dir),
                log_dir=run_dir,
            )
        as_of = _as_of(end)
        env = self.env(landing, "duckdb:///:memory:", run_dir)
        ours = self.child(
            "ours",
            "wo-ours",
            {
                "staged_dir": str(staged),
                "out_dir": str(run_dir / "ours"),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "as_of": as_of,
            },
            env=env,
            log_dir=run_dir,
        )
        budget = self.args.seed_timeout
        seed = self.child(
            "seed loop",
            "wo-seed",
            {"staged_dir": str(staged), "out_dir": str(run_dir / "seed"), "budget": budget},
            env=env,
            timeout=budget + 600,
            log_dir=run_dir,
        )
        checked: dict[str, object] = {"equal": False, "detail": "a side failed"}
        if ours.ok and seed.ok:
            from benchmarks.workorders import check

            checked = check(run_dir / "ours", run_dir / "seed", bool(seed.result.get("complete")))
        self.say(f"    identical work-order rows: {checked.get('equal')} {json.dumps(checked.get('checks', {}))}")
        self.record(
            f"workorders@{label(orders)}",
            {
                "scenario": "workorders",
                "scale": label(orders),
                "orders": orders,
                "dataset": info,
                "sides": {"ours": ours.as_dict(), "seed": seed.as_dict()},
                "check": checked,
            },
        )

    def pipeline(self, orders: int) -> None:
        ds = Dataset(orders, SCALE_DAYS)
        self.say(
            f"\n== full pipeline, {label(orders)} orders over {ds.days} days: Dagster vs pure transforms vs DuckDB SQL"
        )
        landing, info = self.dataset(ds)
        run_dir = self.work / "runs" / f"pipeline-{ds.name}"
        _fresh_dir(run_dir)
        start, end = ds.first_day, ds.last_day + dt.timedelta(days=1)
        first, last = ds.first_day.isoformat(), ds.last_day.isoformat()
        sides: dict[str, Measured] = {}
        sides["duckdb_sql"] = self.baseline(landing, run_dir, start, end)
        pure_db = run_dir / "pure.duckdb"
        if not self.args.no_pure:
            sides["pure_pandas"] = self.child(
                "pure pandas (no Dagster)",
                "pure",
                {
                    "landing": str(landing),
                    "url": f"duckdb:///{pure_db}",
                    "export_dir": str(run_dir / "exports-pure"),
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "validate": True,
                },
                env=self.env(landing, f"duckdb:///{pure_db}", run_dir / "exports-pure"),
                log_dir=run_dir,
            )
        dbs = {"duckdb_sql": run_dir / "baseline.duckdb", "pure_pandas": pure_db}
        if self.args.no_pure:
            dbs.pop("pure_pandas")
        if not self.args.no_inprocess:
            db = run_dir / "inprocess.duckdb"
            sides["dagster_in_process"] = self.child(
                "dagster execute_in_process",
                "dagster-inprocess",
                {
                    "landing": str(landing),
                    "url": f"duckdb:///{db}",
                    "export_dir": str(run_dir / "exports-inproc"),
                    "first": first,
                    "last": last,
                    "tz": TZ,
                },
                env=self.env(landing, f"duckdb:///{db}", run_dir / "exports-inproc"),
                log_dir=run_dir,
            )
            dbs["dagster_in_process"] = db
        for preset in self.args.cli:
            for select in self.args.assets:
                name = (
                    "dagster_cli" + ("" if preset == "default" else f"_{preset}") + ("_all" if select == "all" else "")
                )
                db = run_dir / f"{name}.duckdb"
                sides[name] = self.dagster_cli(
                    name, landing, db, run_dir / f"exports-{name}", f"{first}...{last}", preset, run_dir, select
                )
                dbs[name] = db
        checks = self.check_against_baseline(sides, dbs)
        self.record(
            f"pipeline@{label(orders)}",
            {
                "scenario": "pipeline",
                "scale": label(orders),
                "orders": orders,
                "dataset": info,
                "sides": {k: v.as_dict() for k, v in sides.items()},
                "checks": checks,
                "baseline": "duckdb_sql",
            },
        )

    def baseline(self, landing: Path, run_dir: Path, start: dt.date, end: dt.date, name: str = "baseline") -> Measured:
        return self.child(
            "duckdb sql baseline",
            "baseline",
            {
                "db": str(run_dir / f"{name}.duckdb"),
                "landing": str(landing),
                "export_dir": str(run_dir / f"exports-{name}"),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "tz": TZ,
                "late_days": LATE_DAYS,
                "as_of": _as_of(end),
                "threads": self.args.duckdb_threads,
                "memory_limit": self.args.duckdb_memory,
            },
            env=self.env(landing, "duckdb:///:memory:", run_dir),
            log_dir=run_dir,
        )

    def check_against_baseline(self, sides: dict[str, Measured], dbs: dict[str, Path]) -> dict[str, object]:
        checks: dict[str, object] = {}
        base = sides.get("duckdb_sql")
        for name, m in sides.items():
            if name == "duckdb_sql":
                continue
            if not (m.ok and base is not None and base.ok):
                checks[name] = {"equal": False, "summary": "not compared: a side did not finish"}
                continue
            compared = self.child(
                f"compare-{name}",
                "compare",
                {"a": str(dbs["duckdb_sql"]), "b": str(dbs[name])},
                timeout=self.timeout,
                log_dir=dbs[name].parent,
                quiet=True,
            )
            if not compared.ok:
                checks[name] = {"equal": False, "summary": f"comparison failed ({compared.status})"}
                continue
            checks[name] = {k: compared.result[k] for k in ("equal", "summary", "tables")}
            verdict = "EQUAL" if compared.result["equal"] else "DIFFERENT"
            self.say(f"    {name} vs duckdb_sql: {verdict} - {compared.result['summary']}")
        return checks

    def year(self, orders: int) -> None:
        ds = Dataset(round(orders * (YEAR_DAYS + 1) / YEAR_DAYS), YEAR_DAYS + 1)  # a year, plus the new day
        self.say(
            f"\n== one-year backfill ({YEAR_DAYS} partitions, one run) of {label(orders)} orders, then one new day"
        )
        landing, info = self.dataset(ds)
        run_dir = self.work / "runs" / f"year-{ds.name}"
        _fresh_dir(run_dir)
        start = ds.first_day
        end = start + dt.timedelta(days=YEAR_DAYS)
        new_day = end  # the 366th landing day
        sides: dict[str, Measured] = {}
        dbs: dict[str, Path] = {}
        sides["duckdb_sql"] = self.baseline(landing, run_dir, start, end)
        dbs["duckdb_sql"] = run_dir / "baseline.duckdb"
        year_db = run_dir / "year.duckdb"
        preset = self.args.cli[0] if self.args.cli else "default"
        sides["dagster_cli"] = self.dagster_cli(
            "dagster_cli",
            landing,
            year_db,
            run_dir / "exports",
            f"{start.isoformat()}...{(end - dt.timedelta(days=1)).isoformat()}",
            preset,
            run_dir,
        )
        dbs["dagster_cli"] = year_db
        checks = self.check_against_baseline(sides, dbs)
        history_from = "dagster_cli"
        if not sides["dagster_cli"].ok:
            # The history the new day needs can come from the SQL baseline (its tables equal the
            # pipeline's at every scale checked); the quality and quarantine tables are then created empty.
            history_from = "duckdb_sql"
            year_db = dbs["duckdb_sql"]
        day_runs: dict[str, Measured] = {}
        day_key = new_day.isoformat()
        for runner in ("cli", "in_process"):
            if runner == "in_process" and self.args.no_inprocess:
                continue
            for kind in ("with_history", "no_history"):
                db = run_dir / f"day-{runner}-{kind}.duckdb"
                if kind == "with_history":
                    shutil.copyfile(year_db, db)
                elif db.exists():
                    db.unlink()
                name = f"new_day_{runner}_{kind}"
                exports = run_dir / f"exports-{name}"
                if runner == "cli":
                    day_runs[name] = self.dagster_cli(name, landing, db, exports, day_key, preset, run_dir)
                else:
                    day_runs[name] = self.child(
                        name,
                        "dagster-inprocess",
                        {
                            "landing": str(landing),
                            "url": f"duckdb:///{db}",
                            "export_dir": str(exports),
                            "first": day_key,
                            "last": day_key,
                            "tz": TZ,
                        },
                        env=self.env(landing, f"duckdb:///{db}", exports),
                        log_dir=run_dir,
                    )
                day_runs[name].result["rows"] = _day_rows(db, new_day) if day_runs[name].ok else {}
        self.record(
            f"year@{label(orders)}",
            {
                "scenario": "year",
                "scale": label(orders),
                "orders": orders,
                "dataset": info,
                "partitions": YEAR_DAYS,
                "new_day": day_key,
                "history_from": history_from,
                "sides": {k: v.as_dict() for k, v in sides.items()},
                "checks": checks,
                "baseline": "duckdb_sql",
                "day_runs": {k: v.as_dict() for k, v in day_runs.items()},
            },
        )

    def events(self, per_day: int, days: int) -> None:
        """behaviour_signals and behaviour_funnels (Dagster, execute_in_process) vs hand-written DuckDB SQL."""
        self.say(f"\n== behaviour events, {label(per_day)} events a day over {days} days: assets vs DuckDB SQL")
        run_dir = self.work / "runs" / f"events-{label(per_day)}x{days}"
        _fresh_dir(run_dir)
        data_dir = self.work / "data" / f"events-{label(per_day)}x{days}"
        data_dir.mkdir(parents=True, exist_ok=True)
        src = data_dir / "staged.duckdb"
        info_file = data_dir / "info.json"
        first, last = START, START + dt.timedelta(days=days - 1)
        env = self.env(run_dir, "duckdb:///:memory:", run_dir)
        if self.args.fresh or not info_file.exists():
            made = self.child(
                "generate (not timed)",
                "events-data",
                {"db": str(src), "start": first.isoformat(), "days": days, "events_per_day": per_day, "tz": TZ},
                env=env,
                log_dir=run_dir,
            )
            if not made.ok:
                return
            info_file.write_text(json.dumps(made.result, default=str), encoding="utf-8")
        info = json.loads(info_file.read_text(encoding="utf-8"))
        self.say(f"  data: {info.get('rows')} ({info.get('mb')} MB warehouse file)")
        span = {"first": first.isoformat(), "last": last.isoformat(), "tz": TZ}
        sides: dict[str, Measured] = {}
        sides["duckdb_sql"] = self.child(
            "duckdb sql baseline", "events-baseline", {"src": str(src), "db": str(run_dir / "baseline.duckdb"), **span},
            env=env, log_dir=run_dir,
        )
        assets_db = run_dir / "assets.duckdb"
        shutil.copyfile(src, assets_db)  # the assets write into their warehouse; the copy is not timed
        sides["dagster_in_process"] = self.child(
            "assets, execute_in_process", "events-assets", {"db": str(assets_db), **span},
            env=self.env(run_dir, f"duckdb:///{assets_db}", run_dir), log_dir=run_dir,
        )
        check: dict[str, object] = {"equal": False, "summary": "not compared: a side did not finish"}
        if all(m.ok for m in sides.values()):
            compared = self.child(
                "compare", "events-compare", {"a": str(run_dir / "baseline.duckdb"), "b": str(assets_db)},
                log_dir=run_dir, quiet=True,
            )
            if compared.ok:
                check = {k: compared.result[k] for k in ("equal", "summary", "tables")}
        self.say(f"    assets vs duckdb_sql: {'EQUAL' if check['equal'] else 'DIFFERENT'} - {check['summary']}")
        self.record(
            f"events@{label(per_day)}x{days}",
            {
                "scenario": "events",
                "scale": label(per_day),
                "events_per_day": per_day,
                "days": days,
                "dataset": info,
                "sides": {k: v.as_dict() for k, v in sides.items()},
                "checks": {"dagster_in_process": check},
                "baseline": "duckdb_sql",
            },
        )

    def warehouse_writes(self, rows: int) -> None:
        """DuckDB native vs PostgreSQL COPY vs pandas to_sql, from benchmarks/warehouse_writes.py when present."""
        import importlib.util

        self.say(f"\n== warehouse write throughput, {label(rows)} rows, per backend")
        if importlib.util.find_spec("benchmarks.warehouse_writes") is None:
            self.say("    benchmarks/warehouse_writes.py is not there: skipped (hook: Runner.warehouse_writes)")
            self.record("warehouse_writes", {"scenario": "warehouse_writes", "status": "module missing", "rows": rows})
            return
        run_dir = self.work / "runs" / "warehouse_writes"
        _fresh_dir(run_dir)
        m = self.child("warehouse writes", "writes", {"rows": rows}, env=dict(os.environ), log_dir=run_dir)
        for r in m.result.get("results", []):  # type: ignore[union-attr]
            self.say(f"      {r['method']:<40} {_fmt(r['seconds'])} s  {r['status']}")
        self.record(
            "warehouse_writes",
            {"scenario": "warehouse_writes", "rows": rows, "status": m.status, "run": m.as_dict()},
        )


def _day_rows(db: Path, day: dt.date) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for table, col in (
            ("stg_orders", "landing_date"),
            ("stg_feedback", "landing_date"),
            ("stg_behaviour", "landing_date"),
            ("quarantine", "landing_date"),
            ("fct_order_feedback", "business_date"),
            ("work_orders", "business_date"),
        ):
            try:
                out[table] = con.execute(f"SELECT count(*) FROM after_sales.{table} WHERE {col} = ?", [day]).fetchone()[
                    0
                ]  # type: ignore[index]
            except duckdb.Error:
                out[table] = 0
        return out
    finally:
        con.close()


def _code_version() -> dict[str, object]:
    """The commit measured and how many files under after_sales/ differ from it (others edit the tree)."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    changed = [ln for ln in git("status", "--porcelain", "--", "after_sales").splitlines() if ln.strip()]
    return {"commit": git("rev-parse", "--short", "HEAD"), "after_sales_files_changed": len(changed)}


def _as_of(end: dt.date) -> str:
    from benchmarks.pure_pipeline import work_order_as_of

    return work_order_as_of(end, TZ).isoformat()


def _fresh_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        action="append",
        default=None,
        help="quick (= 10k and 100k orders, the default) or an order count: 10k, 100k, 1m, 10m; repeatable",
    )
    parser.add_argument("--year", action="store_true", help="also run the one-year backfill and new-day scenario")
    parser.add_argument("--year-orders", default="10m", help="orders in the year scenario (default 10m)")
    parser.add_argument(
        "--only",
        choices=("workorders", "pipeline", "year", "writes", "events"),
        action="append",
        help="run only these scenarios (repeatable)",
    )
    parser.add_argument(
        "--cli",
        action="append",
        choices=sorted(CLI_PRESETS),
        help="Dagster CLI executor presets to measure (default: the job's own executor)",
    )
    parser.add_argument(
        "--assets",
        action="append",
        choices=sorted(CLI_SELECT),
        help="Dagster CLI selections: marts (the baseline's tables and their upstream; default) and/or all",
    )
    parser.add_argument("--no-inprocess", action="store_true", help="skip the execute_in_process Dagster side")
    parser.add_argument("--no-pure", action="store_true", help="skip the pure-pandas side")
    parser.add_argument("--seed-timeout", type=float, default=120.0, help="cap of the seed loop, seconds (default 120)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="cap of any other side, seconds (default 1200)")
    parser.add_argument("--memory-cap-gb", type=float, default=16.0, help="kill a side above this RSS (default 16)")
    parser.add_argument("--duckdb-threads", type=int, default=None, help="threads for the SQL baseline (default: all)")
    parser.add_argument(
        "--duckdb-memory", default="8GB", help="memory_limit of the SQL baseline; it spills beyond (default 8GB)"
    )
    parser.add_argument("--events", default="1m", help="events a day in the events scenario (default 1m)")
    parser.add_argument("--events-days", type=int, default=SCALE_DAYS, help="days in the events scenario (default 30)")
    parser.add_argument("--write-rows", default="1m", help="rows for the warehouse write comparison (default 1m)")
    parser.add_argument("--work-dir", default=str(ROOT / "data" / "bench"), help="data and run folders")
    parser.add_argument("--results", default=str(ROOT / "docs" / "benchmarks.json"), help="results store (merged)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"), help="markdown report")
    parser.add_argument("--chart", default=str(ROOT / "docs" / "img" / "benchmarks.png"), help="PNG chart")
    parser.add_argument("--fresh", action="store_true", help="regenerate the data sets")
    parser.add_argument("--render-only", action="store_true", help="only re-render the report from the results store")
    args = parser.parse_args(argv)
    args.cli = args.cli or ["default"]
    args.assets = args.assets or ["marts"]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the requested scenarios, then write the report and chart."""
    args = parse_args(argv)
    warnings.filterwarnings("ignore")  # Dagster beta/preview warnings from importing the definitions
    runner = Runner(args, argv)
    if not args.render_only:
        scales: list[int] = []
        year_orders: int | None = None
        for item in args.scale or ["quick"]:
            if item == "quick":
                scales += list(QUICK_SCALES)
            else:
                scales.append(parse_count(item))
        if args.year:
            year_orders = parse_count(args.year_orders)
        only = set(args.only or ("workorders", "pipeline", "year", "writes", "events"))
        began = time.perf_counter()
        runner.say(
            f"benchmark: scales {', '.join(label(s) for s in scales) or '-'}"
            f"{f', year of {label(year_orders)} orders' if year_orders else ''}; work dir {runner.work}"
        )
        for orders in dict.fromkeys(scales):
            if "workorders" in only:
                runner.workorders(orders)
            if "pipeline" in only:
                runner.pipeline(orders)
        if year_orders and "year" in only:
            runner.year(year_orders)
        if "writes" in only:
            runner.warehouse_writes(parse_count(args.write_rows))
        if "events" in only:
            runner.events(parse_count(args.events), args.events_days)
        runner.say(f"\nmeasured in {time.perf_counter() - began:.0f} s")
    report.write(runner.store, Path(args.out), Path(args.chart))
    runner.say(f"wrote {args.out} and {args.chart}")
    return 0
