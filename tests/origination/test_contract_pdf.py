"""The contract PDF's fonts: parsed once per process, a per-document subset embedded, Chinese extractable,
the same terms the same bytes whatever was rendered before, and a character outside the prepared font
(a rare hanzi in a surname) still printed, not a box."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from fenqi.origination.contract_pdf import render_contract, specimen_terms


def _text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: install Debian poppler-utils (scripts/system-deps)")
    path = tmp_path / "contract.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_same_terms_same_bytes_whatever_came_before(tmp_path: Path) -> None:
    terms = specimen_terms("FQ-TEST-1")
    first = render_contract(terms)
    other = render_contract(replace(terms, shopper_masked_name="欧阳**", goods="华为 Mate 70 雅川青"))
    assert render_contract(terms) == first
    assert "欧阳**" in _text(other, tmp_path) and "雅川青" in _text(other, tmp_path)
    text = _text(first, tmp_path)
    assert "分期付款合同" in text and "年化利率（APR）：12.00%" in text and "张**" in text
    assert len(first) < 150_000  # a subset of the glyphs used, not the font


def test_a_character_outside_the_prepared_font_is_printed(tmp_path: Path) -> None:
    pdf = render_contract(replace(specimen_terms("FQ-TEST-1"), shopper_masked_name="堃**"))  # not in GB 2312
    assert "堃**" in _text(pdf, tmp_path)
