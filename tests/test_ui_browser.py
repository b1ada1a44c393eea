"""The UI tells the story: every asset's description, owners, kinds, schema, lineage and code version, seen in Chromium.

The browser test runs the demo itself (`python -m after_sales.demo`, 3 days) into temp dirs, serves it with
`dagster-webserver`, opens the marts asset graph, the metrics_daily page and its checks, the partitions of
fct_order_feedback, the quarantine asset, the Backfills tab and the HTML report in headless Chromium
(Debian's chromium and chromium-driver, driven by Selenium), asserts what each page must show and saves
screenshots. It is skipped when Selenium, chromium or chromedriver is missing.
`AFTER_SALES_UPDATE_SCREENSHOTS=1` writes the screenshots to docs/img/ (the README shows them); otherwise
they go to the test's temp dir.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from after_sales.definitions import defs

ROOT = Path(__file__).resolve().parents[1]
LOCATION = "after_sales"  # the code location name in workspace.yaml, as with `make ui`
DEMO_DAYS = 7
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def test_every_asset_tells_its_story() -> None:
    graph = defs.get_repository_def().asset_graph
    for key in graph.get_all_asset_keys():
        node, name = graph.get(key), key.to_user_string()
        assert node.description and node.owners == ["team:data"] and node.group_name != "default", name
        assert node.kinds and node.code_version, name
        meta = node.metadata
        if "dagster/table_name" in meta:
            assert "dagster/column_schema" in meta, name
        if node.group_name == "staging":
            assert "lineage/landing" in meta and node.partitions_def is not None, name
        else:
            assert "lineage/upstream" in meta, name
        if node.group_name in ("marts", "metrics") and node.partitions_def is not None:
            assert isinstance(node.freshness_policy, dg.FreshnessPolicy), name
    fact = graph.get(dg.AssetKey("fct_order_feedback")).metadata
    assert "after_sales.stg_orders" in str(fact["lineage/upstream"])


@pytest.fixture
def browser_paths() -> tuple[str, str]:
    """Paths of chromium and chromedriver, or skip the test saying what is missing (before any demo is built)."""
    pytest.importorskip("selenium", reason="Selenium is not installed (pip install selenium)")
    chromium = next((p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None)
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("no chromium/chromedriver found (Debian: apt-get install -y chromium chromium-driver)")
    return chromium, driver


def demo_days() -> tuple[dt.date, dt.date]:
    """The first and last day the demo generates: the DEMO_DAYS days ending yesterday (business time zone)."""
    tz = ZoneInfo(os.environ.get("AFTER_SALES_TIMEZONE", "").strip() or "Asia/Shanghai")
    last = dt.datetime.now(tz).date() - dt.timedelta(days=1)
    return last - dt.timedelta(days=DEMO_DAYS - 1), last


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, check: Callable[[], bool], timeout: float) -> None:
    """Poll until check() is true, else fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def _serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def demo_ui(browser_paths: tuple[str, str], tmp_path: Path) -> Iterator[str]:
    """Demo data in temp dirs, materialized, served by dagster-webserver; yields the base URL."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    first, last = demo_days()
    env = {
        **{k: v for k, v in os.environ.items() if k != "AFTER_SALES_START_DATE"},  # partitions begin at the data
        "AFTER_SALES_LANDING_DIR": str(tmp_path / "landing"),
        "AFTER_SALES_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "AFTER_SALES_EXPORT_DIR": str(tmp_path / "exports"),
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": str(ROOT),
    }
    # A few injected faults, so the quarantine asset has rules and reasons to show.
    demo = [sys.executable, "-m", "after_sales.demo", "--days", str(DEMO_DAYS), "--orders-per-day", "200"]
    demo += ["--fault-rate", "0.02"]
    done = subprocess.run(demo, env=env, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    assert first.isoformat() in done.stdout and last.isoformat() in done.stdout
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_webserver",
            "-w",
            str(ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait("dagster-webserver", lambda: _serving(f"{base}/server_info"), 90)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


@pytest.mark.slow
def test_asset_graph_and_asset_page_in_chromium(browser_paths: tuple[str, str], demo_ui: str, tmp_path: Path) -> None:
    chromium, chromedriver = browser_paths
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    out = ROOT / "docs" / "img" if os.environ.get("AFTER_SALES_UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    options = Options()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1600, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
        )
        browser.set_page_load_timeout(60)
        browser.get(f"{demo_ui}/server_info")
        # No newsletter pop-up, and the navigation folded: more room for the graph.
        browser.execute_script(
            "localStorage.setItem('communityNux', '1'); localStorage.setItem('dagster-nav-collapsed', 'true');"
        )

        def text() -> str:
            return browser.find_element(By.TAG_NAME, "body").text

        def page(path: str, expected: list[str], shot: str) -> str:
            browser.get(demo_ui + path)
            try:
                _wait(f"{path} to show {expected}", lambda: all(e in text() for e in expected), 60)
            except BaseException:  # pytest.fail: keep what the page showed instead
                browser.save_screenshot(str(tmp_path / f"failed_{shot}"))
                print(text()[:3000])
                raise
            time.sleep(1.0)  # let edges and icons settle
            browser.save_screenshot(str(out / shot))
            return text()

        marts = ["fct_order_feedback", "problem_orders", "work_orders", "Asset checks", "Latest event"]
        graph_text = page(f"/locations/{LOCATION}/asset-groups/marts", marts, "asset_graph.png")
        assert "stg_orders" in graph_text and "metrics_daily" in graph_text and "Passed" in graph_text
        overview = ["metrics_daily", "Description", "Columns", "Freshness policy"]
        page_text = page("/assets/metrics_daily", overview, "asset_page.png")
        assert "after_sales.metrics_daily" in page_text and "complaint_rate" in page_text
        checks = sorted(
            k.name for k in defs.get_repository_def().asset_graph.get(dg.AssetKey("metrics_daily")).check_keys
        )
        page("/assets/metrics_daily?view=checks", checks, "asset_checks.png")
        # The demo is a backfill, listed as one; the partitions begin at the first demo day, all green.
        page("/overview/backfills", ["Backfills", "after_sales/trigger: demo", "Success"], "backfills.png")
        # Every partition there is holds data: the partitions begin at the first demo day.
        expected = [f"{DEMO_DAYS} Partitions Selected", f"Materialized ({DEMO_DAYS})", "Missing (0)"]
        middle = (demo_days()[0] + dt.timedelta(days=DEMO_DAYS // 2)).isoformat()
        shown = page(f"/assets/fct_order_feedback?view=partitions&partition={middle}", expected, "partitions.png")
        assert "dagster/row_count" in shown and "run_window" in shown
        # The quarantine is an asset: each landing day with its rows per rule (the demo injected a few faults).
        shown = page(
            f"/assets/quarantine?view=partitions&partition={middle}", ["rule/", "Materialized"], "quarantine.png"
        )
        assert "dagster/row_count" in shown and "rows_by_table_and_rule" in shown
        # The report, in a tall window: the stamp, the legend above the panels, the tables.
        [report] = (tmp_path / "exports" / "reports").glob("*/metrics_30d.html")
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1400, "height": 2600, "deviceScaleFactor": 1, "mobile": False},
        )
        browser.get(report.as_uri())
        _wait("the report", lambda: "After-sales metrics" in text(), 30)
        assert "warehouse duckdb:///" in text() and "run " in text()
        widest = browser.execute_script(
            "return Math.max(...[...document.querySelectorAll('table')].map(t => t.scrollWidth));"
        )
        assert widest < 1400, widest  # no table wider than the window
        aligned = browser.execute_script(
            "const t = document.querySelector('table.text td:nth-child(2)'); return getComputedStyle(t).textAlign;"
        )
        assert aligned in ("left", "start")
        browser.save_screenshot(str(out / "report.png"))
    finally:
        browser.quit()
    shots = ("asset_graph.png", "asset_page.png", "asset_checks.png", "backfills.png", "partitions.png", "report.png")
    for shot in (*shots, "quarantine.png"):
        assert (out / shot).stat().st_size > 20_000, shot  # a real page, not a blank one
