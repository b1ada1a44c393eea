"""The generated parts of the docs match the code."""

from after_sales.docgen import DOC, render


def test_data_model_tables_section_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert render(text) == text, "run `python -m after_sales.docgen` and commit docs/data-model.md"
