"""The generated parts of the docs match the code."""

from after_sales.docgen import DOC, render


def test_data_model_tables_section_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert render(text) == text, "run `python -m after_sales.docgen` and commit docs/data-model.md"


def test_metrics_measure_table_is_current() -> None:
    from after_sales.docgen import METRICS_DOC, render_metrics

    text = METRICS_DOC.read_text(encoding="utf-8")
    assert render_metrics(text) == text, "run `python -m after_sales.docgen` and commit docs/metrics.md"
