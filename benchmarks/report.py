"""The results store (docs/benchmarks.json), the markdown report and the chart."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

ANALYSIS = Path(__file__).with_name("analysis.md")
GIB = 1024.0

# The targets of issue 15 (the SQL core) and issue 16 (behaviour events).
TARGETS = {
    "workorders": "work orders at 100k orders at least 200x faster than the seed loop, identical work-order rows",
    "pipeline_dagster": "full pipeline for 1M orders through `dagster asset materialize` within 1.5x of the "
    "hand-written DuckDB SQL baseline",
    "pipeline_pure": "pure transforms (no Dagster) for 1M orders within 1.2x of the DuckDB SQL baseline",
    "pipeline_100k": "full pipeline for 100k orders through `dagster asset materialize` within 2.5x of the baseline",
    "demo": "a 30-day, 10k-order demo-size run through the CLI in 20 s wall or less",
    "year": "one-year backfill of 10M orders in one run in 5 minutes or less, peak RSS under 2 GiB",
    "new_day": "one new day on a year of history within 1.5x of one day with no history",
    "events": "behaviour signals and funnels, 30 days at 1M events a day, within 2x of hand-written DuckDB SQL, "
    "peak RSS under 2 GiB",
}
SIDE_NAMES = {
    "duckdb_sql": "DuckDB SQL script (baseline)",
    "pure_pandas": "pure pandas transforms, no Dagster",
    "dagster_in_process": "Dagster, execute_in_process",
    "dagster_cli": "Dagster CLI, `dagster asset materialize`",
    "dagster_cli_all": "Dagster CLI, every asset",
    "dagster_cli_sequential": "Dagster CLI, one step at a time",
    "ours": "our transforms (fact, problems, work orders, daily CSVs)",
    "seed": "seed loop (one CSV per problem order)",
}


# ------------------------------------------------------------------------------------------ store
def load_store(path: Path) -> dict[str, Any]:
    """The results store, or an empty one."""
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"records": {}}


def save_store(path: Path, store: dict[str, Any]) -> None:
    """Write the store (sorted keys, stable diff)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def machine() -> dict[str, object]:
    """The machine and library versions the figures were measured on."""
    import dagster
    import duckdb
    import numpy
    import pandas
    import pyarrow

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "memory_gib": mem_gib,
        "cpu_model": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
        "duckdb": duckdb.__version__,
        "dagster": dagster.__version__,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


# ------------------------------------------------------------------------------------------ figures
def work_seconds(side: dict[str, Any]) -> float | None:
    """The side's work time: in-process clock (or the Dagster run's own duration for the CLI)."""
    if side.get("status") != "ok":
        return None
    value = (side.get("result") or {}).get("seconds")
    return float(value) if isinstance(value, int | float) else None


def _s(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _x(value: float | None) -> str:
    return "-" if value is None else (f"{value:,.0f}x" if value >= 100 else f"{value:.2f}x")


def _mb(side: dict[str, Any]) -> str:
    v = side.get("peak_rss_mb")
    return "-" if not v else f"{v:,.0f}"


def _scale_key(rec: dict[str, Any]) -> int:
    return int(rec.get("orders") or 0)


SIDE_ORDER = (
    "duckdb_sql",
    "pure_pandas",
    "dagster_in_process",
    "dagster_cli",
    "dagster_cli_sequential",
    "dagster_cli_all",
)


def ordered(sides: dict[str, Any]) -> list[tuple[str, Any]]:
    """Sides in a fixed order: baseline first, then from least to most machinery."""
    rank = {n: i for i, n in enumerate(SIDE_ORDER)}
    return sorted(sides.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def side_label(name: str, side: dict[str, Any]) -> str:
    """Readable side name; for CLI runs, the executor the Definitions configured when it ran."""
    text = SIDE_NAMES.get(name, name)
    res = side.get("result") or {}
    if name.startswith("dagster_cli") and res.get("forkserver") is not None:
        text += " (multiprocess executor, forkserver)" if res["forkserver"] else f" ({res.get('executor')} executor)"
    return text


def _equal_cell(check: dict[str, Any]) -> str:
    """'yes', 'not compared (...)' or 'NO: what differs'."""
    if check.get("equal"):
        return "yes"
    text = str(check.get("summary", ""))
    if text.startswith("not compared"):
        return "not compared (a side did not finish)"
    return "NO: " + text[:300]


def _records(store: dict[str, Any], scenario: str) -> list[dict[str, Any]]:
    recs = [r for r in store["records"].values() if r.get("scenario") == scenario]
    return sorted(recs, key=_scale_key)


def _status_note(side: dict[str, Any], cap_label: str = "") -> str:
    status = side.get("status")
    if status == "ok":
        return ""
    if status == "timeout":
        return f"capped: timeout after {side.get('wall_seconds', 0):,.0f} s{cap_label}"
    if status == "memory_cap":
        return f"capped: killed above the memory cap at {side.get('peak_rss_mb', 0):,.0f} MB"
    return "failed"


# ------------------------------------------------------------------------------------------ targets
def evaluate_targets(store: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, verdict, figure) for each target, from the records of the scale the target names."""
    recs = store["records"]
    out = []
    wo = recs.get("workorders@100k")
    if wo:
        ours, seed = work_seconds(wo["sides"]["ours"]), wo["sides"]["seed"]
        seed_s = (seed.get("result") or {}).get("estimated_full_seconds") or work_seconds(seed)
        speed = _ratio(seed_s, ours)
        equal = bool(wo.get("check", {}).get("equal"))
        ok = speed is not None and speed >= 200 and equal
        out.append(
            (
                TARGETS["workorders"],
                "met" if ok else "missed",
                f"{_x(speed)} faster ({_s(ours)} s vs {_s(seed_s)} s); identical rows: {'yes' if equal else 'NO'}",
            )
        )
    else:
        out.append((TARGETS["workorders"], "not measured", "run `python -m benchmarks` (quick)"))
    for target, scale, side, limit in (
        ("pipeline_dagster", "1m", "dagster_cli", 1.5),
        ("pipeline_pure", "1m", "pure_pandas", 1.2),
        ("pipeline_100k", "100k", "dagster_cli", 2.5),
    ):
        pl = recs.get(f"pipeline@{scale}")
        if not pl or side not in pl["sides"]:
            out.append((TARGETS[target], "not measured", f"run `python -m benchmarks --scale {scale}`"))
            continue
        base = work_seconds(pl["sides"]["duckdb_sql"])
        mine = work_seconds(pl["sides"][side])
        r = _ratio(mine, base)
        equal = bool(pl["checks"].get(side, {}).get("equal"))
        extra = ""
        if side == "dagster_cli" and "dagster_in_process" in pl["sides"]:
            ri = _ratio(work_seconds(pl["sides"]["dagster_in_process"]), base)
            extra = f"; execute_in_process {_x(ri)}"
        ok = r is not None and r <= limit and equal
        out.append(
            (
                TARGETS[target],
                "met" if ok else "missed",
                f"{_x(r)} ({_s(mine)} s vs {_s(base)} s), output equal: {'yes' if equal else 'NO'}{extra}",
            )
        )
    demo = (recs.get("pipeline@10k") or {}).get("sides", {}).get("dagster_cli")
    if demo:
        wall = demo.get("wall_seconds")
        ok = demo.get("status") == "ok" and wall is not None and wall <= 20
        run_s = (demo.get("result") or {}).get("seconds")
        out.append((TARGETS["demo"], "met" if ok else "missed", f"{_s(wall)} s wall ({_s(run_s)} s run time)"))
    else:
        out.append((TARGETS["demo"], "not measured", "run `python -m benchmarks --scale 10k`"))
    yr = recs.get("year@10m")
    if yr:
        side = yr["sides"].get("dagster_cli", {})
        wall = side.get("wall_seconds")
        rss = side.get("peak_rss_mb") or 0
        ok = side.get("status") == "ok" and wall is not None and wall <= 300 and rss < 2 * GIB
        note = _status_note(side)
        out.append(
            (
                TARGETS["year"],
                "met" if ok else "missed",
                f"{_s(wall)} s wall ({_s((side.get('result') or {}).get('seconds'))} s run time in Dagster), "
                f"peak RSS {rss / GIB:.1f} GiB{'; ' + note if note else ''}",
            )
        )
    else:
        out.append((TARGETS["year"], "not measured", "run `python -m benchmarks --year`"))
    yr_day = yr or (_records(store, "year")[-1] if _records(store, "year") else None)
    if yr_day and yr_day.get("day_runs"):
        parts, oks = [], []
        for runner in ("cli", "in_process"):
            h = yr_day["day_runs"].get(f"new_day_{runner}_with_history")
            n = yr_day["day_runs"].get(f"new_day_{runner}_no_history")
            if not h or not n:
                continue
            r = _ratio(work_seconds(h), work_seconds(n))
            oks.append(r is not None and r <= 1.5)
            parts.append(f"{runner.replace('_', '-')}: {_x(r)} ({_s(work_seconds(h))} s vs {_s(work_seconds(n))} s)")
        scale = yr_day.get("scale")
        verdict = ("met" if all(oks) else "missed") if oks else "not measured"
        if scale != "10m" and oks:
            verdict += f" (at {scale})"
        out.append((TARGETS["new_day"], verdict, "; ".join(parts)))
    else:
        out.append((TARGETS["new_day"], "not measured", "run `python -m benchmarks --year`"))
    out.append(_events_target(store))
    return out


def _events_target(store: dict[str, Any]) -> tuple[str, str, str]:
    """The events target, from the 1M-a-day record, else the largest scale measured (named in the verdict)."""
    recs = sorted(_records(store, "events"), key=lambda r: int(r.get("events_per_day") or 0) * int(r.get("days") or 0))
    if not recs:
        return TARGETS["events"], "not measured", "run `python -m benchmarks --only events`"
    rec = store["records"].get("events@1mx30") or recs[-1]
    base, side = rec["sides"]["duckdb_sql"], rec["sides"]["dagster_in_process"]
    r = _ratio(work_seconds(side), work_seconds(base))
    equal = bool(rec["checks"].get("dagster_in_process", {}).get("equal"))
    rss = side.get("peak_rss_mb") or 0
    ok = r is not None and r <= 2.0 and equal and rss < 2 * GIB
    verdict = "met" if ok else "missed"
    if rec.get("key") != "events@1mx30":
        verdict += f" (at {rec.get('scale')} events a day x {rec.get('days')} days)"
    note = _status_note(side)
    figure = (
        f"{_x(r)} ({_s(work_seconds(side))} s vs {_s(work_seconds(base))} s), output equal: "
        f"{'yes' if equal else 'NO'}; peak RSS {rss / GIB:.2f} GiB"
        if not note
        else f"assets {note} (baseline {_s(work_seconds(base))} s), not compared; peak RSS {rss / GIB:.2f} GiB"
    )
    done = [x for x in recs if x is not rec and x["sides"].get("dagster_in_process", {}).get("status") == "ok"]
    if side.get("status") != "ok" and done:
        smaller = done[-1]
        s_side = smaller["sides"]["dagster_in_process"]
        s_ratio = _ratio(work_seconds(s_side), work_seconds(smaller["sides"]["duckdb_sql"]))
        s_equal = bool(smaller["checks"].get("dagster_in_process", {}).get("equal"))
        figure += (
            f". At {smaller.get('scale')} events a day x {smaller.get('days')} days: {_x(s_ratio)}, output equal: "
            f"{'yes' if s_equal else 'NO'}, peak RSS {(s_side.get('peak_rss_mb') or 0) / GIB:.2f} GiB"
        )
    return TARGETS["events"], verdict, figure


# ------------------------------------------------------------------------------------------ markdown
def _machine_line(m: dict[str, Any]) -> str:
    return (
        f"{m.get('cpus')} CPUs ({m.get('cpu_model')}), {m.get('memory_gib')} GiB RAM, {m.get('os')}; "
        f"Python {m.get('python')}, pandas {m.get('pandas')}, numpy {m.get('numpy')}, pyarrow {m.get('pyarrow')}, "
        f"DuckDB {m.get('duckdb')}, Dagster {m.get('dagster')}"
    )


def _dataset_line(info: dict[str, Any]) -> str:
    rows = info.get("rows", {})
    chunks = info.get("chunks", 1)
    chunk_note = f", generated in {chunks} chunks" if chunks and chunks > 1 else ""
    return (
        f"{rows.get('orders', 0):,} orders, {rows.get('feedback', 0):,} feedback rows, "
        f"{rows.get('behaviour', 0):,} sessions over {info.get('days')} landing days "
        f"({info.get('orders_per_day'):,} orders/day, seed {info.get('seed')}, fault rate 0{chunk_note}; "
        f"{info.get('landing_bytes', 0) / 1e6:,.0f} MB of CSV)"
    )


def render(store: dict[str, Any]) -> str:
    """The whole markdown report."""
    lines: list[str] = []
    add = lines.append
    recs = store["records"]
    machines = {json.dumps(r.get("machine", {}) | {"load_avg_1m": None}, sort_keys=True) for r in recs.values()}
    add("# Benchmarks")
    add("")
    add("Generated by `make bench` (`python -m benchmarks`); every figure below comes from that command, and the")
    add("command and time of each scenario are listed with it. Re-run to refresh; bigger scales by flag:")
    add("`python -m benchmarks --scale 1m`, `--scale 10m`, `--year` (a 10M-order year); the behaviour events scenario")
    add("runs 30 days at `--events 1m` events a day (`--only events --events 100k` for a quicker one). Results are")
    add("merged into `docs/benchmarks.json`, so a quick run does not erase the figures of a bigger one. Data sets and")
    add("runs are kept under `data/bench/` (about 11 GB after the year); `make clean-bench` removes them.")
    add("")
    add("![benchmark chart](img/benchmarks.png)")
    add("")
    add("## Machine")
    add("")
    for m in sorted(machines):
        add(f"- {_machine_line(json.loads(m))}")
    add("- The machine is shared with other work; each scenario records the 1-minute load average when it was")
    add("  measured. Ratios are measured in the same run on the same data and hold better than absolute seconds.")
    add("")
    add("## Targets")
    add("")
    add("| target | verdict | figure |")
    add("|---|---|---|")
    for target, verdict, figure in evaluate_targets(store):
        add(f"| {target} | **{verdict}** | {figure} |")
    add("")
    add("## How it measures")
    add("")
    add("- Data: the deterministic sample generator (`after_sales.sample.generate`), fault rate 0, starting")
    add("  2025-01-01 in Asia/Shanghai, written as landing CSVs once per scale and reused (generation is not timed).")
    add("  Ranges above 2M orders are generated in consecutive chunks of whole days, each with its own seed; feedback")
    add("  a chunk's orders would have received after the chunk's last day is then not generated (the row counts")
    add("  below are what was generated).")
    add("- Each side runs in its own child process. *work s* is the side's own clock around the work, imports")
    add("  excluded (for `dagster asset materialize`: the run's start-to-end time in the Dagster instance); *wall s*")
    add("  is the whole process, interpreter start and imports included. *peak RSS* is the larger of the kernel's")
    add("  ru_maxrss (largest single process) and the sampled sum over the child's whole process tree (the")
    add("  multiprocess executor runs steps in separate processes). A side past its cap is killed and shown as capped.")
    add("- A ratio is reported only when both sides produced the same output (column *equal*):")
    add("  - pipeline sides against the DuckDB SQL script: the staging tables and the four marts have the same row")
    add("    count and the same multiset of rows over every column both have (`EXCEPT ALL` both ways empty; the")
    add("    label column `source` left out, doubles rounded to 9 decimals);")
    add("  - work orders, on the seed's own definition (ours also opens work orders for complaint types without a")
    add("    low rating and splits an order by cause, so the two are compared on what the seed produces):")
    add("    *identical* means (1) the (order_id, feedback_id) pairs rated below 3 equal our problem issues with")
    add("    `is_low_rating`, (2) the orders the seed wrote a CSV for are exactly our work orders' orders with")
    add("    `min_rating < 3`, (3) the union of the rows the seed wrote, as (order_id, feedback_id), equals our fact")
    add("    rows of those orders, and (4) every low-rated feedback is listed in a work order of its order. When the")
    add("    seed loop is capped, (2) and (3) are checked on the orders it got to, and its full time is extrapolated")
    add("    linearly (each iteration scans the whole merged frame, so the loop is linear in problem orders).")
    add("- The DuckDB SQL script (`benchmarks/duckdb_baseline.sql`) reads the same landing CSVs with every column as")
    add("  VARCHAR, types, dedupes (first row per id and landing day), applies the staging time rules and the")
    add("  unknown-order rule, and builds the staging tables, `fct_order_feedback`, `problem_orders` (cause rules from")
    add("  `after_sales/config/cause_rules.yaml` turned into RE2 patterns and CASE), `work_orders`, `metrics_daily`")
    add("  and the per-day work-order CSVs, in one DuckDB file. Simplified: rows breaking a rule are dropped, not")
    add("  quarantined with a reason (at fault rate 0 there are none), and no quality checks run.")
    add("- *pure pandas* calls the same transforms and warehouse writes as the assets, without Dagster; the quality")
    add("  checks (Great Expectations + conservation) are timed as their own phase and left out of its work s")
    add("  (its wall and CPU seconds include them).")
    add("")
    add(_workorders_section(store))
    add(_pipeline_section(store))
    add(_year_section(store))
    add(_writes_section(store))
    add(_events_section(store))
    if ANALYSIS.exists():
        add(ANALYSIS.read_text(encoding="utf-8").strip())
        add("")
    return "\n".join(lines).rstrip() + "\n"


def _provenance(rec: dict[str, Any]) -> str:
    return (
        f"_Measured {rec.get('measured_at')} by `{rec.get('command')}` "
        f"(load average {rec.get('machine', {}).get('load_avg_1m')})._"
    )


def _workorders_section(store: dict[str, Any]) -> str:
    recs = _records(store, "workorders")
    out = ["## Work-order generation: our transforms vs the seed loop", ""]
    if not recs:
        return "\n".join([*out, "Not measured yet.", ""])
    out += [
        "| orders | problem orders (rating < 3) | ours work s | seed work s | speed-up | ours / seed peak RSS MB "
        "| identical |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in recs:
        ours, seed = r["sides"]["ours"], r["sides"]["seed"]
        sres = seed.get("result") or {}
        seed_s = work_seconds(seed)
        est = sres.get("estimated_full_seconds")
        if seed.get("status") == "ok" and not sres.get("complete"):
            seed_txt = (
                f"capped at {_s(seed_s)} s after {sres.get('orders_written'):,} of {sres.get('problem_orders'):,}"
                f" orders; about {_s(est)} s in all (extrapolated)"
            )
            speed = _ratio(est, work_seconds(ours))
            speed_txt = f"~{_x(speed)} (extrapolated)"
        else:
            seed_txt = _s(seed_s) if seed_s is not None else _status_note(seed)
            speed_txt = _x(_ratio(seed_s, work_seconds(ours)))
        chk = r.get("check", {})
        ident = "yes" if chk.get("equal") else f"NO {json.dumps(chk.get('checks', chk.get('detail')))}"
        out.append(
            f"| {r['dataset']['rows']['orders']:,} | {sres.get('problem_orders', '-'):,} | "
            f"{_s(work_seconds(ours))} | {seed_txt} | {speed_txt} | {_mb(ours)} / {_mb(seed)} | {ident} |"
        )
    out.append("")
    for r in recs:
        ph = (r["sides"]["ours"].get("result") or {}).get("phases", {})
        out.append(
            f"- {r['scale']}: {_dataset_line(r['dataset'])}. Ours by phase: "
            + ", ".join(f"{k} {_s(v)} s" for k, v in ph.items())
            + ". "
            + _provenance(r)
        )
    out.append("")
    return "\n".join(out)


def _pipeline_section(store: dict[str, Any]) -> str:
    recs = _records(store, "pipeline")
    out = [
        "## Full daily pipeline over a 30-day partition range, one run",
        "",
        "Dagster materializes the tables the SQL script builds and everything upstream of them "
        "(`--select '*metrics_daily,work_orders_csv'`: own and marketplace staging, the fact, problem orders, work "
        "orders, metrics_daily, the work-order CSVs); `dagster_cli_all`, when present, is every asset (metric "
        "roll-ups and reports too: more work than the script does).",
        "",
    ]
    if not recs:
        return "\n".join([*out, "Not measured yet.", ""])
    out += [
        "| orders | side | work s | wall s | CPU s | peak RSS MB | x SQL (work) | x SQL (wall) | x SQL (CPU) "
        "| equal to SQL |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in recs:
        base = r["sides"].get("duckdb_sql", {})
        bw, bwall = work_seconds(base), base.get("wall_seconds") if base.get("status") == "ok" else None
        bcpu = base.get("cpu_seconds") if base.get("status") == "ok" else None
        for name, side in ordered(r["sides"]):
            w = work_seconds(side)
            wall = side.get("wall_seconds") if side.get("status") == "ok" else None
            if name == "duckdb_sql":
                eq = "(baseline)"
            else:
                chk = r["checks"].get(name, {})
                eq = _equal_cell(chk)
            note = _status_note(side)
            shown = _ratio(w, bw) if (name == "duckdb_sql" or r["checks"].get(name, {}).get("equal")) else None
            shown_wall = _ratio(wall, bwall) if shown is not None else None
            cpu = side.get("cpu_seconds") if side.get("status") == "ok" else None
            shown_cpu = _ratio(cpu, bcpu) if shown is not None else None
            out.append(
                f"| {r['dataset']['rows']['orders']:,} | {side_label(name, side)} | {note or _s(w)} | "
                f"{_s(wall)} | {_s(cpu)} | {_mb(side)} | {_x(shown)} | {_x(shown_wall)} | {_x(shown_cpu)} | {eq} |"
            )
    out.append("")
    for r in recs:
        out.append(f"- {r['scale']}: {_dataset_line(r['dataset'])}. {_provenance(r)}")
    out.append("")
    largest = recs[-1]
    out += [f"### Where the time goes ({largest['scale']} orders)", ""]
    for name, side in ordered(largest["sides"]):
        res = side.get("result") or {}
        parts = res.get("phases") or res.get("steps")
        if parts:
            items = sorted(parts.items(), key=lambda kv: -kv[1])
            out.append(f"- {side_label(name, side)}: " + ", ".join(f"{k} {_s(v)}" for k, v in items if v >= 0.01))
    out.append("")
    return "\n".join(out)


def _year_section(store: dict[str, Any]) -> str:
    recs = _records(store, "year")
    out = ["## One-year backfill and one new day", ""]
    if not recs:
        return "\n".join([*out, "Not measured yet.", ""])
    for r in recs:
        out += [
            f"### {r['scale']} orders over {r['partitions']} daily partitions, one run",
            "",
            f"{_dataset_line(r['dataset'])}. {_provenance(r)}",
            "",
            "| side | work s | wall s | peak RSS MB (tree) | largest process MB | equal to SQL |",
            "|---|---|---|---|---|---|",
        ]
        for name, side in ordered(r["sides"]):
            note = _status_note(side)
            eq = "(baseline)" if name == "duckdb_sql" else _equal_cell(r["checks"].get(name, {}))
            out.append(
                f"| {side_label(name, side)} | {note or _s(work_seconds(side))} | {_s(side.get('wall_seconds'))} | "
                f"{_mb(side)} | {side.get('peak_single_rss_mb', 0):,.0f} | {eq} |"
            )
        cli = r["sides"].get("dagster_cli", {})
        steps = (cli.get("result") or {}).get("steps") or {}
        if steps:
            done = (
                "Backfill steps" if cli.get("status") == "ok" else "Backfill steps finished before the run was stopped"
            )
            out.append("")
            out.append(
                f"{done}: " + ", ".join(f"{k} {_s(v)} s" for k, v in sorted(steps.items(), key=lambda kv: -kv[1]))
            )
        if r.get("history_from") != "dagster_cli":
            out.append("")
            out.append(
                "The Dagster backfill did not finish, so the history for the new day is the SQL baseline's warehouse "
                "(its tables equal the pipeline's wherever both finished)."
            )
        out += [
            "",
            f"New day {r['new_day']} (the 366th landing day), one partition:",
            "",
            "| run | work s | wall s | peak RSS MB | staged orders / feedback / sessions | quarantined | fact rows |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, side in (r.get("day_runs") or {}).items():
            rows = (side.get("result") or {}).get("rows") or {}
            note = _status_note(side)
            out.append(
                f"| {name.replace('new_day_', '').replace('_', ' ')} | {note or _s(work_seconds(side))} | "
                f"{_s(side.get('wall_seconds'))} | {_mb(side)} | {rows.get('stg_orders', '-')} / "
                f"{rows.get('stg_feedback', '-')} / {rows.get('stg_behaviour', '-')} | {rows.get('quarantine', '-')} | "
                f"{rows.get('fct_order_feedback', '-')} |"
            )
        runs = r.get("day_runs") or {}
        quarantined = {((v.get("result") or {}).get("rows") or {}).get("quarantine") for v in runs.values()}
        if len(quarantined) > 1:
            note = (
                "With no history, the feedback landed that day about orders of earlier days has no staged order to "
                "match and is quarantined (rule unknown_order), so that run writes quarantine rows instead; the "
                "input files are the same."
            )
        else:
            note = (
                "Both runs read the same landing files and stage the same rows; only the warehouse differs (a year "
                "of history, or empty)."
            )
        from benchmarks.datasets import Dataset

        info = r["dataset"]
        chunks = Dataset(int(info["orders"]), int(info["days"]), int(info.get("seed", 7))).chunks()
        if len(chunks) > 1 and chunks[-1][1] == 1:
            note += (
                " The new day was generated as a chunk of its own (see How it measures), so its feedback is only "
                "about orders placed that day: fewer feedback rows than a day in the middle of the year, and none "
                "about older orders."
            )
        out += ["", note, ""]
    return "\n".join(out)


def _writes_section(store: dict[str, Any]) -> str:
    rec = store["records"].get("warehouse_writes")
    out = ["## Warehouse write throughput per backend", ""]
    results = ((rec or {}).get("run") or {}).get("result", {}).get("results") if rec else None
    if not results:
        why = (
            "`benchmarks/warehouse_writes.py` was not there"
            if rec and rec.get("status") == "module missing"
            else (f"the run ended {rec.get('status')}" if rec else "not run yet")
        )
        out += [f"Not measured ({why}).", ""]
        return "\n".join(out)
    out += [
        "The same stg_orders-shaped frame written into an empty table with the same DDL, each method timed from the "
        "call to the committed rows, row count checked (`benchmarks/warehouse_writes.py`). "
        f"{_provenance(rec)} Peak RSS of the process running all methods: {_mb(rec['run'])} MB.",
        "",
        "| backend | method | rows | seconds | rows/s | x DuckDB native | status |",
        "|---|---|---|---|---|---|---|",
    ]
    native = next((r["seconds"] for r in results if r["method"].startswith("duckdb native")), None)
    for r in results:
        rate = f"{r['rows_per_second']:,}" if r.get("rows_per_second") else "-"
        out.append(
            f"| {r['backend']} | {r['method']} | {r['rows']:,} | {_s(r.get('seconds'))} | {rate} | "
            f"{_x(_ratio(r.get('seconds'), native))} | {r['status']} |"
        )
    out.append("")
    return "\n".join(out)


def _events_section(store: dict[str, Any]) -> str:
    recs = sorted(_records(store, "events"), key=lambda r: int(r.get("events_per_day") or 0) * int(r.get("days") or 0))
    out = ["## Behaviour events: signals and funnels vs hand-written DuckDB SQL", ""]
    if not recs:
        return "\n".join([*out, "Not measured yet (`python -m benchmarks --only events`).", ""])
    out += [
        "`behaviour_signals` and `behaviour_funnels` materialized over every day of the range in one Dagster run",
        "(`execute_in_process`, their checks included) against `benchmarks/events_baseline.sql`, the same outputs",
        "written by hand as one DuckDB script over the whole range (rules spelled out, an ASOF join for the",
        "attribution; the search-query causes come from the same jieba tokenizer, as it is not SQL). Input: staged",
        "orders and events generated by `benchmarks/events_data.sql` straight into a warehouse file (staging is",
        "measured in the pipeline scenario): 30 orders per 1,000 events, 14 event types, 30 % failed payments,",
        "tracking views up to 10 days after the order, a small pool of returned orders, 16 search queries, 0.1 % of",
        "the events landed twice. Both sides read the same file; their two tables are compared with `EXCEPT ALL`",
        "both ways before a ratio is given.",
        "",
        "| events/day x days | events | side | work s | wall s | peak RSS MB | x SQL (work) | equal | rows "
        "(signals / funnel days) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for rec in recs:
        rows = (rec.get("dataset") or {}).get("rows", {})
        base = work_seconds(rec["sides"].get("duckdb_sql", {}))
        for name, side in ordered(rec["sides"]):
            res = side.get("result") or {}
            got = res.get("rows") or {}
            check = rec["checks"].get(name, {})
            eq = "(baseline)" if name == "duckdb_sql" else _equal_cell(check)
            status = _status_note(side)
            out.append(
                f"| {rec.get('scale')} x {rec.get('days')} | {rows.get('stg_events', 0):,} | "
                f"{'DuckDB SQL (baseline)' if name == 'duckdb_sql' else 'assets, execute_in_process'}"
                f"{' - ' + status if status else ''} | {_s(work_seconds(side))} | {_s(side.get('wall_seconds'))} | "
                f"{_mb(side)} | {_x(_ratio(work_seconds(side), base))} | {eq} | "
                f"{got.get('behaviour_signals', '-'):,} / {got.get('behaviour_funnels', '-'):,} |"
                if got
                else f"| {rec.get('scale')} x {rec.get('days')} | {rows.get('stg_events', 0):,} | "
                f"{'DuckDB SQL (baseline)' if name == 'duckdb_sql' else 'assets, execute_in_process'} - {status} | - | "
                f"{_s(side.get('wall_seconds'))} | {_mb(side)} | - | {eq} | - |"
            )
        phases = (rec["sides"].get("duckdb_sql", {}).get("result") or {}).get("phases", {})
        steps = (rec["sides"].get("dagster_in_process", {}).get("result") or {}).get("steps", {})
        notes.append(
            f"- {rec.get('scale')} x {rec.get('days')}: {rows.get('stg_events', 0):,} event rows, "
            f"{rows.get('stg_orders', 0):,} orders. Baseline by statement: "
            + ", ".join(f"{k} {_s(v)}" for k, v in sorted(phases.items(), key=lambda kv: -kv[1]))
            + ". Asset steps: "
            + (", ".join(f"{k} {_s(v)}" for k, v in sorted(steps.items(), key=lambda kv: -kv[1])) or "none finished")
            + f". {_provenance(rec)}"
        )
    return "\n".join([*out, "", *notes, ""])


# ------------------------------------------------------------------------------------------ chart
def chart(store: dict[str, Any], path: Path) -> None:
    """Three panels: work orders, full pipeline per side, year backfill and new day."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    recs = _records(store, "workorders")
    if recs:
        xs = [r["dataset"]["rows"]["orders"] for r in recs]
        ours = [work_seconds(r["sides"]["ours"]) for r in recs]
        seed = [((r["sides"]["seed"].get("result") or {}).get("estimated_full_seconds")) for r in recs]
        capped = [not (r["sides"]["seed"].get("result") or {}).get("complete", True) for r in recs]
        ax.plot(xs, ours, "o-", label="ours (vectorized)")
        ax.plot(xs, seed, "s--", label="seed loop")
        for x, y, c in zip(xs, seed, capped, strict=True):
            if c and y:
                ax.annotate("extrapolated", (x, y), textcoords="offset points", xytext=(4, -12), fontsize=7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    ax.set_title("Work orders: seconds by orders", fontsize=10)
    ax.set_xlabel("orders")
    ax.set_ylabel("seconds (log)")

    ax = axes[1]
    recs = _records(store, "pipeline")
    if recs:
        names = [
            n
            for n in (
                "duckdb_sql",
                "pure_pandas",
                "dagster_in_process",
                "dagster_cli",
                "dagster_cli_in_process",
                "dagster_cli_forkserver",
            )
            if any(n in r["sides"] for r in recs)
        ]
        width = 0.8 / max(len(names), 1)
        for i, name in enumerate(names):
            vals = [work_seconds(r["sides"][name]) or 0 if name in r["sides"] else 0 for r in recs]
            pos = [j + i * width for j in range(len(recs))]
            ax.bar(pos, vals, width, label=name.replace("_", " "))
        ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(recs))], [r["scale"] for r in recs])
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    ax.set_title("Full pipeline, 30 days: work seconds", fontsize=10)
    ax.set_xlabel("orders")

    ax = axes[2]
    recs = _records(store, "year")
    if recs:
        r = recs[-1]
        labels, vals, colors = [], [], []
        for name, side in ordered(r["sides"]):
            capped = side.get("status") != "ok"
            labels.append(("year " + name).replace("_", " ") + (" (stopped)" if capped else ""))
            vals.append(work_seconds(side) or side.get("wall_seconds") or 0)
            colors.append("tab:gray" if capped else "tab:blue")
        for name, side in (r.get("day_runs") or {}).items():
            labels.append(name.replace("new_day_", "day ").replace("_", " "))
            vals.append(work_seconds(side) or 0)
            colors.append("tab:orange")
        bars = ax.barh(labels, vals, color=colors)
        for bar, side in zip(bars, [*r["sides"].values(), *(r.get("day_runs") or {}).values()], strict=True):
            if side.get("status") != "ok":
                ax.annotate(
                    _status_note(side).replace("capped: ", ""),
                    (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(-4, 0),
                    textcoords="offset points",
                    ha="right",
                    va="center",
                    fontsize=6,
                    color="white",
                )
        ax.set_xscale("log")
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(f"Year ({r['scale']} orders) and one new day: seconds", fontsize=10)
    else:
        ax.set_title("Year and new day: not measured", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(store: dict[str, Any], md_path: Path, chart_path: Path) -> None:
    """Render the markdown and the chart."""
    md_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(render(store), encoding="utf-8")
    chart(store, chart_path)
