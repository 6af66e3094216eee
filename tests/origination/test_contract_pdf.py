"""The contract PDF's fonts: parsed once per process, a per-document subset embedded, Chinese extractable,
the same terms the same bytes whatever was rendered before, and a character outside the prepared font
(a rare hanzi in a surname) still printed, not a box."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from fenqi.origination.contract_pdf import ContractTerms, render_contract
from fenqi.pricing.service import quote_from_input


def _text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: install Debian poppler-utils (scripts/system-deps)")
    path = tmp_path / "contract.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _terms() -> ContractTerms:
    today = date(2026, 11, 30)
    quote = quote_from_input(None, today, price="5999", down_payment="600", term=12, method="equal-installment",
                             annual_rate="0.12")
    return ContractTerms(
        contract_no="FQ-TEST-1", signed_on=today, shopper_masked_name="张**", shopper_masked_id="3101**********1234",
        merchant_name="示例手机店", store_name="南京东路店", funder_name="乙消费金融", goods="示例手机 256GB",
        imei="867530000000001", product_name="等额本息 年化12%", quote=quote, penalty_daily_rate=Decimal("0.0005"),
        grace_days=3, late_fee=Decimal("20"), prepayment_fee_rate=Decimal("0.01"),
    )


def test_same_terms_same_bytes_whatever_came_before(tmp_path: Path) -> None:
    terms = _terms()
    first = render_contract(terms)
    other = render_contract(replace(terms, shopper_masked_name="欧阳**", goods="华为 Mate 70 雅川青"))
    assert render_contract(terms) == first
    assert "欧阳**" in _text(other, tmp_path) and "雅川青" in _text(other, tmp_path)
    text = _text(first, tmp_path)
    assert "分期付款合同" in text and "年化利率（APR）：12.00%" in text and "张**" in text
    assert len(first) < 150_000  # a subset of the glyphs used, not the font


def test_a_character_outside_the_prepared_font_is_printed(tmp_path: Path) -> None:
    pdf = render_contract(replace(_terms(), shopper_masked_name="堃**"))  # not in GB 2312
    assert "堃**" in _text(pdf, tmp_path)
