"""Run one measured side in a child process: wall time, peak RSS of its whole process tree, caps.

Every side of a comparison runs in its own process so its peak memory and CPU time are its own.
CPU seconds (user + system of the whole process tree) are recorded beside wall time: on a machine
shared with other work they are far less sensitive to contention. Peak RSS is
taken two ways and the larger is reported: the kernel's ru_maxrss of the child (largest single
process, from wait4) and the sum of VmRSS over every process of the child's session, sampled every
0.1 s (the multiprocess Dagster executor runs steps side by side in separate processes).
ru_maxrss starts at the parent's resident size when the child is forked (Linux keeps it across exec), so
the process calling this must stay small: data sets are generated in a process of their own.
A side that runs past its timeout or memory cap is killed (its own process group, by id) and
reported as capped.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULT_MARK = "BENCH_RESULT "
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    """What the parent saw of one child run."""

    label: str
    status: str  # ok | failed | timeout | memory_cap
    wall_seconds: float
    peak_rss_mb: float
    peak_single_rss_mb: float
    peak_tree_rss_mb: float
    returncode: int | None
    cpu_seconds: float = 0.0
    result: dict[str, object] = field(default_factory=dict)
    log: str = ""

    @property
    def ok(self) -> bool:
        """The child finished and reported a result."""
        return self.status == "ok"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready record (the log is kept out of the results file)."""
        out = asdict(self)
        out.pop("log")
        return out


def _sample_session(sid: int, cpu_ticks: dict[int, int]) -> int:
    """Resident memory (kB) summed over the processes of session sid; updates their CPU ticks seen so far."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # Fields after the command name (which may hold spaces) start after the last ')'.
        rest = stat[stat.rfind(b")") + 2 :].split()
        if int(rest[3]) == sid:  # field 6: session id
            total += int(rest[21]) * PAGE_KB  # field 24: rss in pages
            ticks = int(rest[11]) + int(rest[12])  # fields 14, 15: utime, stime
            pid = int(entry.name)
            cpu_ticks[pid] = max(cpu_ticks.get(pid, 0), ticks)
    return total


def run_measured(
    label: str,
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float | None = None,
    memory_cap_mb: float | None = None,
    log_path: Path | None = None,
    sample_every: float = 0.1,
) -> Measured:
    """Run cmd in a new session, sample its tree's memory, enforce the caps, parse its result line."""
    log_file = open(log_path, "w+b") if log_path else tempfile.TemporaryFile()  # noqa: SIM115
    out_file = tempfile.TemporaryFile()  # noqa: SIM115
    began = time.perf_counter()
    proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=out_file, stderr=log_file, start_new_session=True)
    peak_tree_kb = 0
    cpu_ticks: dict[int, int] = {}
    status = "ok"
    rusage = None
    exit_status = 0
    while True:
        pid, exit_status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        peak_tree_kb = max(peak_tree_kb, _sample_session(proc.pid, cpu_ticks))
        elapsed = time.perf_counter() - began
        if timeout is not None and elapsed > timeout:
            status = "timeout"
        elif memory_cap_mb is not None and peak_tree_kb / 1024 > memory_cap_mb:
            status = "memory_cap"
        if status != "ok":
            os.killpg(proc.pid, signal.SIGKILL)  # the process group this call started, nothing else
            _, exit_status, rusage = os.wait4(proc.pid, 0)
            break
        time.sleep(sample_every)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(exit_status)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers of our own group (executor workers), if any
    out_file.seek(0)
    stdout = out_file.read().decode("utf-8", "replace")
    out_file.close()
    log_file.write(b"\n--- stdout ---\n" + stdout.encode())
    log_file.seek(0)
    log = log_file.read().decode("utf-8", "replace")
    log_file.close()
    result: dict[str, object] = {}
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
    if status == "ok" and proc.returncode != 0:
        status = "failed"
    single_mb = (rusage.ru_maxrss / 1024) if rusage is not None else 0.0
    # CPU: what wait4 reports for the child and the processes it waited for, or, when larger (executor
    # workers the child did not wait for), the sum over every process of the session sampled while it ran.
    waited_cpu = (rusage.ru_utime + rusage.ru_stime) if rusage is not None else 0.0
    tree_mb = peak_tree_kb / 1024
    return Measured(
        label=label,
        status=status,
        wall_seconds=round(wall, 3),
        peak_rss_mb=round(max(single_mb, tree_mb), 1),
        peak_single_rss_mb=round(single_mb, 1),
        peak_tree_rss_mb=round(tree_mb, 1),
        returncode=proc.returncode,
        cpu_seconds=round(max(waited_cpu, sum(cpu_ticks.values()) / TICKS), 3),
        result=result,
        log=log,
    )


def emit_result(payload: dict[str, object]) -> None:
    """Print the child's result line for the parent (the last one wins)."""
    print(RESULT_MARK + json.dumps(payload, default=str), flush=True)
