"""The metrics report: the last 30 days per channel as a PNG chart and an HTML page with the definitions.

Files: `<AFTER_SALES_EXPORT_DIR>/reports/<warehouse>/metrics_30d.png` and `metrics_30d.html` (the HTML embeds
the chart, so it can be mailed on its own), where <warehouse> names the warehouse and schema the figures
come from (warehouse_folder), so reports of different warehouses never replace each other. The report is
unpartitioned: it always shows the 30 days ending on the newest built day, and says which warehouse, run
and window it was drawn from.
"""

import base64
import datetime as dt
import glob
import hashlib
import html
import os
import re
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
from matplotlib import dates as mdates
from matplotlib import font_manager, ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from after_sales.assets.common import OWNERS, RETRY_POLICY, SINGLE_RUN
from after_sales.assets.faults import classified_faults
from after_sales.behaviour.charts import PNG_NAME as BEHAVIOUR_PNG
from after_sales.behaviour.charts import behaviour_data, behaviour_html, render_behaviour_png
from after_sales.measures import MEASURE, PRIORITIES
from after_sales.resources import ExportDirectory, WarehouseResource
from after_sales.resources.export_directory import neutralize_cell
from after_sales.resources.warehouse import Warehouse
from after_sales.tables import (
    BEHAVIOUR_FUNNELS,
    METRICS_DAILY,
    METRICS_ROLLUPS,
    METRICS_ROLLUPS_BY_CAUSE,
    SERVICE_ITEM_SCORES,
    SIGNAL_ACCURACY,
)
from after_sales.transforms.metric_rules import MetricRules, load_metric_rules
from after_sales.windows import DateWindow

REPORT_DAYS = 30
REPORT_FOLDER = "reports"
PNG_NAME = "metrics_30d.png"
HTML_NAME = "metrics_30d.html"
CJK_FONT_HINTS = (
    "CJK SC",
    "CJK",
    "WenQuanYi",
    "Source Han",
    "Noto Sans SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang",
    "Heiti",
)
# Font files of the Debian packages fonts-noto-cjk and fonts-wqy-microhei (and common other places), added to
# matplotlib when its font cache was built before they were installed.
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/**/NotoSansCJK*.ttc",
    "/usr/share/fonts/**/NotoSansSC*.otf",
)

# (measure of metrics_rollups, panel title): shares (rates, per the measure registry) show percentages.
CHANNEL_PANELS = (
    ("orders", "Orders"),
    ("complaint_rate", "Complaint rate"),
    ("csat", "CSAT (share of 4-5 ratings)"),
    ("first_response_hours_median", "First response, median (h)"),
    ("resolution_hours_median", "Full resolution, median (h)"),
    ("sla_achieved_rate", "SLA achieved"),
    ("refund_rate", "Refund rate"),
    ("dispute_rate", "Dispute rate"),
    ("backlog_work_orders", "Backlog: open work orders\nat day end"),
)
SUMMARY_COLUMNS = (
    "orders",
    "complaint_rate",
    "csat",
    "effective_after_sales_count",
    "handling_time_hours_mean",
    "first_response_hours_median",
    "first_response_hours_p90",
    "resolution_hours_median",
    "resolution_hours_p90",
    "one_touch_rate",
    "reopen_rate",
    "sla_achieved_rate",
    "sla_breached",
    "refund_rate",
    "dispute_rate",
    "backlog_work_orders",
    "backlog_age_hours_median",
)
ITEM_COLUMNS = (
    "service_action",
    "suggested_work_orders",
    "work_orders",
    "followup_ratings",
    "score",
    "score_ci_low",
    "score_ci_high",
    "grade",
)
CAUSE_COLUMNS = (
    "cause",
    "problem_issues",
    "work_orders",
    "resolution_hours_median",
    "sla_achieved_rate",
    "one_touch_rate",
    "followup_score",
)


@dataclass
class ReportData:
    """What the report shows: daily rows of the window and the 28-day figures of its last day."""

    first_day: dt.date
    last_day: dt.date
    days: pd.DataFrame
    rolling: pd.DataFrame
    items: pd.DataFrame
    causes: pd.DataFrame


def load_report_data(wh: Warehouse, days: int = REPORT_DAYS) -> ReportData | None:
    """The rows of the `days` days ending on the newest day with metrics, or None when nothing is built yet."""
    if not wh.table_exists(METRICS_ROLLUPS.name):
        return None
    built = wh.read(METRICS_DAILY, None, ["business_date"])["business_date"]
    if built.empty:
        return None
    last = max(built)
    first = max(last - dt.timedelta(days=days - 1), min(built))
    window = DateWindow(first, last + dt.timedelta(days=1))
    rollups = wh.read(METRICS_ROLLUPS, window)
    causes = wh.read(METRICS_ROLLUPS_BY_CAUSE, DateWindow.single(last))
    items = wh.read(SERVICE_ITEM_SCORES, DateWindow.single(last))
    return ReportData(
        first_day=first,
        last_day=last,
        days=rollups.loc[rollups["period"] == "day"].sort_values(["channel", "period_end"]),
        rolling=rollups.loc[(rollups["period"] == "rolling_28d") & (rollups["period_end"] == last)],
        items=items.loc[items["period"] == "rolling_28d"],
        causes=causes.loc[causes["period"] == "rolling_28d"],
    )


def _known_cjk_font() -> str | None:
    names = [f.name for f in font_manager.fontManager.ttflist]
    for hint in CJK_FONT_HINTS:
        for name in names:
            if hint.lower() in name.lower():
                return name
    return None


def cjk_font() -> str | None:
    """The name of an installed font that draws Chinese (added from CJK_FONT_FILES if the cache lacks it), if any."""
    found = _known_cjk_font()
    if found:
        return found
    for pattern in CJK_FONT_FILES:
        for path in sorted(glob.glob(pattern, recursive=True)):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return _known_cjk_font()


def redacted_url(url: str) -> str:
    """The warehouse URL without its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL SQLAlchemy parses: hide whatever stands before an @
        return re.sub(r"//[^@/]*@", "//***@", url)


def warehouse_folder(url: str, schema: str) -> str:
    """A folder name per warehouse and schema: a readable name plus a hash of the redacted URL and schema."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
        name = Path(parsed.database or parsed.get_backend_name()).stem
    except ArgumentError:
        name = "warehouse"
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{name}_{schema}").strip("_") or "warehouse"
    digest = hashlib.sha256(f"{redacted_url(url)}|{schema}".encode()).hexdigest()[:8]
    return f"{slug}-{digest}"


@dataclass(frozen=True)
class Stamp:
    """Where a report came from: the warehouse (password hidden), schema, run and when it was drawn."""

    warehouse: str
    schema: str
    run_id: str
    generated: str

    def line(self, data: "ReportData", wrap: bool = False) -> str:
        """The source, window and run: one line, or two (warehouse; window and run) for the chart's footer."""
        where = f"warehouse {self.warehouse}, schema {self.schema}"
        what = f"window {data.first_day} .. {data.last_day}; run {self.run_id}; drawn {self.generated}"
        return f"{where}\n{what}" if wrap else f"{where}; {what}"


def item_label(action: str, rules: MetricRules, chinese: bool) -> str:
    """A service item's chart label: its Chinese name with a CJK font, else the English name from metrics.yaml."""
    if chinese:
        return action
    return rules.english_names.get(action, action.encode("unicode_escape").decode("ascii"))


def _channel_order(days: pd.DataFrame) -> list[str]:
    """'all' first, then channels by orders over the window, largest first."""
    totals = days.loc[days["channel"] != "all"].groupby("channel")["orders"].sum().sort_values(ascending=False)
    return ["all", *totals.index]


def _date_axis(ax: object, first: dt.date, last: dt.date) -> None:
    """Day ticks over exactly the window (padded half a day), so one day is a readable point, not an empty axis."""
    ax.set_xlim(pd.Timestamp(first) - pd.Timedelta(hours=12), pd.Timestamp(last) + pd.Timedelta(hours=12))
    days = (last - first).days + 1
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, days // 8)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)


def render_png(data: ReportData, path: Path, rules: MetricRules, stamp: Stamp | None = None) -> Path:
    """Draw the per-channel service panels, the traffic panels and the service-item scores into one PNG."""
    font = cjk_font()
    fig = Figure(figsize=(18, 20), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(4, 3)
    channels = _channel_order(data.days)
    few = (data.last_day - data.first_day).days < 10
    marker = {"marker": "o", "markersize": 4} if few else {}
    for ax, (column, title) in zip(axes.flat[:9], CHANNEL_PANELS, strict=True):
        for channel in channels:
            rows = data.days.loc[data.days["channel"] == channel]
            style = {"color": "black", "linewidth": 2.4, "zorder": 5} if channel == "all" else {"linewidth": 1.2}
            ax.plot(pd.to_datetime(rows["period_end"]), pd.to_numeric(rows[column]), label=channel, **style, **marker)
        if column == "sla_achieved_rate":
            for p in PRIORITIES:
                if p in rules.sla_achievement_targets:
                    ax.axhline(rules.sla_achievement_targets[p], linestyle=":", linewidth=0.8, color="grey")
        ax.set_title(title)
        if MEASURE[column].is_share:
            ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
        if pd.to_numeric(data.days[column]).notna().any():
            ax.set_ylim(bottom=0)
        else:
            ax.text(0.5, 0.5, "no value in this window", ha="center", va="center", transform=ax.transAxes)
        _date_axis(ax, data.first_day, data.last_day)
        ax.grid(alpha=0.3)
    # One legend for every panel, above them (inside a panel it covers the lines); the title goes to the footer.
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=len(labels), fontsize=11, frameon=False)
    everything = data.days.loc[data.days["channel"] == "all"]
    when = pd.to_datetime(everything["period_end"])
    ax = axes.flat[9]
    ax.bar(when, pd.to_numeric(everything["visitor_days"]), color="#9ecae1", label="visitors", width=0.8)
    ax.set_title("Own-site traffic (not a service score):\nvisitors (bars), rolling visitor rate (line)")
    twin = ax.twinx()
    twin.plot(when, pd.to_numeric(everything["rolling_visitor_rate"]), color="#d62728", **marker)
    twin.axhline(1.0, linestyle=":", color="#d62728", linewidth=0.8)
    _date_axis(ax, data.first_day, data.last_day)
    ax = axes.flat[10]
    ax.plot(when, pd.to_numeric(everything["submission_rate"]), color="#31a354", **marker)
    ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    ax.set_title("After-sales form submission rate\n(own site)")
    _date_axis(ax, data.first_day, data.last_day)
    ax.grid(alpha=0.3)
    ax = axes.flat[11]
    graded = data.items.loc[data.items["rating_status"] == "graded"].sort_values("score")
    if len(graded):
        labels = [item_label(a, rules, font is not None) for a in graded["service_action"]]
        score = pd.to_numeric(graded["score"])
        low = score - pd.to_numeric(graded["score_ci_low"]).fillna(score)
        high = pd.to_numeric(graded["score_ci_high"]).fillna(score) - score
        ax.barh(labels, score, xerr=[low, high], color="#756bb1", capsize=3)
        if font:
            for label in ax.get_yticklabels():
                label.set_fontfamily([font, "DejaVu Sans"])
        for y, (g, n) in enumerate(zip(graded["grade"], graded["followup_ratings"], strict=True)):
            ax.text(1.05, y, f"{g}  (n={int(n)})", va="center", fontsize=9, color="white", fontweight="bold")
        ax.set_xlim(1, 5)
    else:
        ax.text(0.5, 0.5, "no service item has enough\nfollow-up ratings yet", ha="center", va="center")
        ax.set_xticks([])
        ax.set_yticks([])
    too_few = int((data.items["rating_status"] != "graded").sum())
    ax.set_title(f"Service items, 28 days: score and CI\n({too_few} with too few ratings)")
    title = f"After-sales service, {data.first_day} .. {data.last_day} (daily, per channel)"
    fig.supxlabel(title + ("\n" + stamp.line(data, wrap=True) if stamp else ""), fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    os.replace(tmp, path)
    return path


def _cell(value: object, column: str, percent: bool = False) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "&ndash;"
    if isinstance(value, float):
        if percent or (column in MEASURE and MEASURE[column].is_share):
            return f"{value:.1%}"
        return f"{value:,.2f}"
    # A table pasted from the page into a spreadsheet is evaluated like a CSV: text cells made formula-safe.
    return html.escape(str(neutralize_cell(value)))


def _table(frame: pd.DataFrame, columns: tuple[str, ...] | list[str], percent: bool = False) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(r[c], c, percent)}</td>" for c in columns) + "</tr>" for _, r in frame.iterrows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _definitions(columns: list[tuple[str, str]]) -> str:
    rows = "".join(
        f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(text)}</td></tr>" for name, text in columns
    )
    return (
        '<table class="text"><thead><tr><th>figure</th><th>definition</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _by_figure(rolling: pd.DataFrame, figures: tuple[str, ...]) -> str:
    """The per-channel 28-day figures with a row per figure and a column per channel (narrow, however many)."""
    channels = list(rolling["channel"])
    head = "<th>figure</th>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in channels)
    body = "".join(
        f"<tr><td><code>{html.escape(f)}</code></td>"
        + "".join(f"<td>{_cell(v, f)}</td>" for v in rolling[f])
        + "</tr>"
        for f in figures
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(
    data: ReportData, png: Path, path: Path, rules: MetricRules, stamp: Stamp | None = None, behaviour: str = ""
) -> Path:
    """The HTML page: the chart (embedded), the 28-day tables, the behaviour section and the definitions."""
    image = base64.b64encode(png.read_bytes()).decode("ascii")
    chinese_chart = cjk_font() is not None
    channels = _channel_order(data.days)
    rolling = data.rolling.set_index("channel").reindex([c for c in channels if c in set(data.rolling["channel"])])
    rolling = rolling.reset_index()
    sla_rows = []
    for p in PRIORITIES:
        row = {"priority": p, "target": rules.sla_achievement_targets.get(p)}
        for c in channels:
            match = data.rolling.loc[data.rolling["channel"] == c]
            row[c] = match[f"sla_achieved_rate_{p.lower()}"].iloc[0] if len(match) else None
        sla_rows.append(row)
    sla = pd.DataFrame(sla_rows)
    items = data.items.assign(grade=data.items["grade"].where(data.items["grade"].notna(), "too few ratings"))
    if not chinese_chart:  # the chart fell back to the English names: show both here so they can be matched
        items = items.assign(
            service_action=[f"{a} ({rules.english_names.get(a, a)})" for a in items["service_action"]]
        )
    items = items.sort_values(["rating_status", "score"], ascending=[True, False])
    shown = sorted(
        {c for c, _ in CHANNEL_PANELS}
        | set(SUMMARY_COLUMNS)
        | {"visitor_days", "rolling_visitor_rate"}
        | {"submission_rate"}
    )
    definitions = [(c.name, c.description) for c in METRICS_ROLLUPS.columns if c.name in shown]
    definitions += [(c.name, c.description) for c in SERVICE_ITEM_SCORES.columns if c.name in ITEM_COLUMNS[1:]]
    sla_columns = ["priority", "target", *channels]
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>After-sales metrics, last {REPORT_DAYS} days</title>
<style>
body {{ font-family: system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th {{ background: #f0f0f0; }} td:first-child, th:first-child {{ text-align: left; }}
table.text td, table.text th {{ text-align: left; vertical-align: top; }}
img {{ max-width: 100%; }} .note {{ color: #555; }} .stamp {{ font-family: monospace; font-size: 13px; }}
</style></head><body>
<h1>After-sales metrics, {data.first_day} .. {data.last_day}</h1>
<p class="stamp">{html.escape(stamp.line(data)) if stamp else ""}</p>
<p class="note">Drawn from the tables metrics_rollups, metrics_rollups_by_cause and service_item_scores. Business
dates are order dates in the business time zone; the figures of recent days still grow while feedback lands (up to
14 days). Chart file: <a href="{PNG_NAME}">{PNG_NAME}</a>.
</p>
<img alt="metrics of the last {REPORT_DAYS} days per channel" src="data:image/png;base64,{image}">
<h2>Last 28 days per channel (rolling_28d ending {data.last_day})</h2>
{_by_figure(rolling, SUMMARY_COLUMNS)}
<h2>SLA achieved per priority, last 28 days, against the targets of metrics.yaml</h2>
{_table(sla, sla_columns, percent=True)}
<h2>Service items, last 28 days</h2>
<p>Score: mean follow-up rating (1-5) of the work orders that used the item, with its {rules.confidence:.0%}
t confidence interval. Grade scale: {html.escape(rules.scale_text())}. Fewer than {rules.min_ratings} follow-up
ratings: too few ratings, no score and no grade.</p>
{_table(items, ITEM_COLUMNS)}
<h2>Problem causes, last 28 days</h2>
{_table(data.causes.sort_values("problem_issues", ascending=False), CAUSE_COLUMNS)}
{behaviour}
<h2>Definitions</h2>
<p>From the table registry (after_sales/tables.py), the same text as the warehouse column comments and the BI
documentation; docs/metrics.md gives the full definitions. {html.escape(METRICS_ROLLUPS.description)}</p>
{_definitions(definitions)}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.html")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path


@dg.asset(
    name="metrics_report",
    backfill_policy=SINGLE_RUN,  # so the unpartitioned report can share a partition-range run
    group_name="reports",
    kinds={"matplotlib", "html"},
    owners=OWNERS,
    deps=[
        METRICS_ROLLUPS.name,
        METRICS_ROLLUPS_BY_CAUSE.name,
        SERVICE_ITEM_SCORES.name,
        SIGNAL_ACCURACY.name,
        BEHAVIOUR_FUNNELS.name,
    ],
    retry_policy=RETRY_POLICY,
    code_version="3",
)
@classified_faults
def metrics_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, exports: ExportDirectory
) -> dg.MaterializeResult:
    """`<export dir>/reports/<warehouse>/metrics_30d.png` and `.html`: the last 30 built days per channel."""
    wh = warehouse.open()
    data = load_report_data(wh)
    if data is None:
        context.log.info("no metrics built yet: no report")
        return dg.MaterializeResult(metadata={"report": "no metrics built yet"})
    folder = exports.folder(REPORT_FOLDER) / warehouse_folder(warehouse.url, wh.schema)
    stamp = Stamp(
        warehouse=redacted_url(warehouse.url),
        schema=wh.schema,
        run_id=context.run.run_id,
        generated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    rules = load_metric_rules()
    png = render_png(data, folder / PNG_NAME, rules, stamp)
    extra: dict[str, object] = {}
    section = ""
    shown = DateWindow(data.first_day, data.last_day + dt.timedelta(days=1))
    accuracy, funnels = wh.read(SIGNAL_ACCURACY, shown), wh.read(BEHAVIOUR_FUNNELS, shown)
    behaviour = behaviour_data(data.first_day, data.last_day, accuracy, funnels)
    if behaviour is not None:
        chart = render_behaviour_png(behaviour, folder / BEHAVIOUR_PNG, stamp.line(data, wrap=True))
        section = behaviour_html(behaviour, base64.b64encode(chart.read_bytes()).decode("ascii"))
        extra["behaviour_png"] = dg.MetadataValue.path(str(chart.resolve()))
    page = render_html(data, png, folder / HTML_NAME, rules, stamp, section)
    return dg.MaterializeResult(
        metadata={
            **extra,
            "png": dg.MetadataValue.path(str(png.resolve())),
            "html": dg.MetadataValue.path(str(page.resolve())),
            "warehouse": stamp.warehouse,
            "first_day": str(data.first_day),
            "last_day": str(data.last_day),
            "days": (data.last_day - data.first_day).days + 1,
            "channels": dg.MetadataValue.text(", ".join(_channel_order(data.days))),
        }
    )
