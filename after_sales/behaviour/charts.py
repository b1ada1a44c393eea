"""The behaviour part of the metrics report: signals' precision, recall and lead time, funnels and searches."""

from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib import dates as mdates
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from after_sales.tables import BEHAVIOUR_FUNNELS, SIGNAL_ACCURACY

PNG_NAME = "behaviour_30d.png"
FUNNEL_PANELS = (
    ("checkout_payment_rate", "Checkout → payment success (24 h)"),
    ("payment_failure_rate", "Payment failure rate"),
    ("tracked_late_rate", "Orders tracked after the promised date"),
    ("return_completion_rate", "Return flow completion (24 h)"),
    ("contact_rate", "Contact rate (visitors)"),
    ("zero_result_rate", "Zero-result searches"),
)
WINDOW_COLUMNS = (
    "rule",
    "signals",
    "precision",
    "complaints",
    "recall",
    "lead_hours_mean",
    "closed_days",
)
FUNNEL_COLUMNS = (
    "business_date",
    "checkout_orders",
    "checkout_payment_rate",
    "payment_failure_rate",
    "payment_failure_reasons",
    "tracked_late_rate",
    "return_completion_rate",
    "contact_rate",
    "searches",
    "after_sales_searches",
    "zero_result_rate",
)
TERM_COLUMNS = ("business_date", "top_after_sales_terms", "top_zero_result_terms")


@dataclass
class BehaviourData:
    """signal_accuracy and behaviour_funnels rows of the report's window."""

    first_day: dt.date
    last_day: dt.date
    accuracy: pd.DataFrame
    funnels: pd.DataFrame


def behaviour_data(
    first: dt.date, last: dt.date, accuracy: pd.DataFrame, funnels: pd.DataFrame
) -> BehaviourData | None:
    """The window's signal_accuracy and behaviour_funnels rows, or None when neither has a row."""
    if accuracy.empty and funnels.empty:
        return None
    return BehaviourData(first, last, accuracy, funnels.sort_values("business_date") if len(funnels) else funnels)


def window_accuracy(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Per rule over the window: counts summed, precision and recall as ratios of the sums, lead time weighted.

    Only days whose 7-day window has closed count (a later complaint can still confirm an open day's signal);
    closed_days says how many.
    """
    columns = list(WINDOW_COLUMNS)
    if accuracy.empty:
        return pd.DataFrame(columns=columns)
    closed = accuracy.loc[accuracy["window_closed"].astype(bool)].copy()
    if closed.empty:
        return pd.DataFrame(columns=columns)
    closed["lead_sum"] = pd.to_numeric(closed["lead_hours_mean"]).fillna(0) * closed["anticipated_complaints"]
    sums = closed.groupby("rule", sort=False).agg(
        signals=("signals", "sum"),
        confirmed=("confirmed_signals", "sum"),
        complaints=("complaints", "sum"),
        anticipated=("anticipated_complaints", "sum"),
        lead_sum=("lead_sum", "sum"),
        closed_days=("business_date", "nunique"),
    )
    out = sums.assign(
        precision=(sums["confirmed"] / sums["signals"]).where(sums["signals"] > 0),
        recall=(sums["anticipated"] / sums["complaints"]).where(sums["complaints"] > 0),
        lead_hours_mean=(sums["lead_sum"] / sums["anticipated"]).where(sums["anticipated"] > 0),
    ).reset_index()
    order = {r: i for i, r in enumerate(dict.fromkeys(accuracy["rule"]))}
    out = out.assign(_o=out["rule"].map(lambda r: (r == "all", order.get(r, 0)))).sort_values("_o")
    return out[columns].reset_index(drop=True)


def _date_axis(ax: object, first: dt.date, last: dt.date) -> None:
    ax.set_xlim(pd.Timestamp(first) - pd.Timedelta(hours=12), pd.Timestamp(last) + pd.Timedelta(hours=12))
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, ((last - first).days + 1) // 8)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)


def _no_data(ax: object, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def render_behaviour_png(data: BehaviourData, path: Path, footer: str = "") -> Path:
    """Signals per rule and day, precision/recall per rule over the window, lead time, and the six funnel rates."""
    fig = Figure(figsize=(18, 14), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, 3)
    few = (data.last_day - data.first_day).days < 10
    marker = {"marker": "o", "markersize": 4} if few else {}
    acc = data.accuracy.loc[data.accuracy["rule"] != "all"] if len(data.accuracy) else data.accuracy
    ax = axes.flat[0]
    if len(acc):
        for rule, rows in acc.sort_values("business_date").groupby("rule", sort=False):
            ax.plot(pd.to_datetime(rows["business_date"]), rows["signals"], label=rule, linewidth=1.2, **marker)
        ax.legend(fontsize=8)
        ax.set_ylim(bottom=0)
    else:
        _no_data(ax, "no signal_accuracy rows in this window")
    ax.set_title("Signals detected per rule and day")
    _date_axis(ax, data.first_day, data.last_day)
    ax.grid(alpha=0.3)
    summary = window_accuracy(data.accuracy)
    ax = axes.flat[1]
    if len(summary):
        y = range(len(summary))
        ax.barh([i - 0.2 for i in y], summary["precision"].fillna(0), height=0.4, label="precision", color="#3182bd")
        ax.barh([i + 0.2 for i in y], summary["recall"].fillna(0), height=0.4, label="recall", color="#e6550d")
        ax.set_yticks(list(y), summary["rule"])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(ticker.PercentFormatter(1.0))
        ax.legend(fontsize=8, loc="lower right")
    else:
        _no_data(ax, "no day with a closed 7-day window yet")
    ax.set_title("Precision and recall per rule\n(days whose 7-day window closed)")
    ax = axes.flat[2]
    if len(summary):
        ax.barh(list(range(len(summary))), summary["lead_hours_mean"].fillna(0), color="#756bb1")
        ax.set_yticks(list(range(len(summary))), summary["rule"])
        ax.invert_yaxis()
    else:
        _no_data(ax, "no anticipated complaint yet")
    ax.set_title("Lead time: hours from signal to complaint (mean)")
    for ax, (column, title) in zip(axes.flat[3:], FUNNEL_PANELS, strict=True):
        values = pd.to_numeric(data.funnels[column]) if len(data.funnels) else pd.Series(dtype=float)
        if values.notna().any():
            ax.plot(pd.to_datetime(data.funnels["business_date"]), values, color="black", **marker)
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
        else:
            _no_data(ax, "no value in this window")
        ax.set_title(title)
        _date_axis(ax, data.first_day, data.last_day)
        ax.grid(alpha=0.3)
    title = f"Customer behaviour: signals and funnels, {data.first_day} .. {data.last_day}"
    fig.supxlabel(title + (f"\n{footer}" if footer else ""), fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    os.replace(tmp, path)
    return path


def _cell(value: object, column: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:.1%}" if column.endswith("_rate") or column in ("precision", "recall") else f"{value:,.1f}"
    return html.escape(str(value))


def _table(frame: pd.DataFrame, columns: tuple[str, ...]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(r[c], c)}</td>" for c in columns) + "</tr>" for _, r in frame.iterrows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def behaviour_html(data: BehaviourData, png_base64: str) -> str:
    """The report's behaviour section: the chart, the window's accuracy per rule, the daily funnels and searches."""
    summary = window_accuracy(data.accuracy)
    funnels = data.funnels.sort_values("business_date", ascending=False) if len(data.funnels) else data.funnels
    definitions = [(c.name, c.description) for c in SIGNAL_ACCURACY.columns if c.name in WINDOW_COLUMNS[1:]]
    definitions += [(c.name, c.description) for c in BEHAVIOUR_FUNNELS.columns if c.name in FUNNEL_COLUMNS[1:]]
    rows = "".join(
        f"<tr><td><code>{html.escape(n)}</code></td><td>{html.escape(t)}</td></tr>" for n, t in definitions
    )
    return f"""<h2>Customer behaviour: signals and funnels</h2>
<p class="note">From the tables signal_accuracy and behaviour_funnels (docs/behaviour.md, docs/metrics.md). A signal is
confirmed by a complaint on its order within 7 days after it; a complaint is anticipated by a signal of the rule on its
order within 7 days before it. Chart file: <a href="{PNG_NAME}">{PNG_NAME}</a>.</p>
<img alt="behaviour signals and funnels" src="data:image/png;base64,{png_base64}">
<h3>Signals per rule, {data.first_day} .. {data.last_day} (days whose 7-day window closed)</h3>
{_table(summary, WINDOW_COLUMNS) if len(summary) else "<p>No day with a closed 7-day window yet.</p>"}
<h3>Funnels per day</h3>
{_table(funnels, FUNNEL_COLUMNS) if len(funnels) else "<p>No behaviour_funnels rows in this window.</p>"}
<h3>Top after-sales search terms and zero-result searches per day</h3>
{_table(funnels, TERM_COLUMNS) if len(funnels) else "<p>No searches in this window.</p>"}
<table class="text"><thead><tr><th>figure</th><th>definition</th></tr></thead><tbody>{rows}</tbody></table>
"""
