"""The contract the shopper can read: an HTML page with the very words of the PDF (both drawn from the contract's
stored text), the borrower's own name in full only for the borrower (staff read it masked, as signed), figures
without gaps, and a link from the loan page."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.models import User
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from fenqi.origination import service, signing
from fenqi.origination.schemas import ApplicationIn
from tests.origination.world import World
from tests.web_console.helpers import clerk_principal, pay
from tests.web_shopper.conftest import sign_in

ARTICLE = re.compile(r'<article class="contract" id="contract-text".*?</article>', re.S)


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: install Debian poppler-utils (scripts/system-deps)")
    path = tmp_path / "contract.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", text)


def _page_text(page: str) -> str:
    article = ARTICLE.search(page)
    assert article, "the page has no contract"
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", " ", article.group(0))))


def _signed_at_the_till(session: Session, world: World) -> tuple[int, int, int]:
    """A till sale with the real contract PDF: (application id, loan id, the borrower's user id)."""
    clerk = clerk_principal(session, world.merchant_id)
    body = ApplicationIn.model_validate(world.body(imei=world.devices[0]))
    app = service.submit(session, body, clerk, service.Origin("127.0.0.1", "test")).application
    contract = signing.generate_contract(session, app)
    signed = signing.sign(session, app, contract_sha256=contract.sha256, consent_version="e-contract-2026.1",
                          imei=None, channel="alipay", principal=clerk, origin=service.Origin("127.0.0.1", "t"))
    assert signed.payment is not None
    pay(session, signed.payment["out_trade_no"])
    assert app.loan_id is not None and app.shopper_user_id is not None
    return app.id, app.loan_id, app.shopper_user_id


def test_the_borrower_reads_the_same_contract_as_the_pdf_with_their_name(
    client: TestClient, session: Session, world: World, tmp_path: Path
) -> None:
    app_id, loan_id, borrower_id = _signed_at_the_till(session, world)
    borrower = session.get(User, borrower_id)
    assert borrower is not None
    client.cookies.set(SESSION_COOKIE, start_session(session, borrower))
    loan_page = client.get(f"/shop/loans/{loan_id}").text
    assert f'href="/shop/applications/{app_id}/contract"' in loan_page
    page = client.get(f"/shop/applications/{app_id}/contract")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    words = _page_text(page.text)
    assert "借款人（消费者）：张三丰" in words and "借款人：张三丰（电子签名）" in words and "张**" not in words
    assert "年化利率（APR）：12.00%" in words and "<th scope=\"col\">期数</th>" in page.text
    # No gaps around figures: amounts and counts sit in the sentence (with thousands separators).
    sentence = re.search(r"商品价格[^<]*", page.text)
    assert sentence and re.search(r"商品价格\d{1,3}(,\d{3})*\.\d\d元，首付", sentence.group(0))
    assert re.search(r"共\d+期", sentence.group(0)) and " 元" not in sentence.group(0)
    pdf = client.get(f"/shop/applications/{app_id}/contract.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert _pdf_text(pdf.content, tmp_path) == words  # the same words, to the character

    # Staff read the signed document: the name masked, in the page and in the PDF alike.
    from fenqi.identity.service import create_user

    clerk = create_user(session, role="clerk", display_name="店员", merchant_id=world.merchant_id)
    client.cookies.set(SESSION_COOKIE, start_session(session, clerk))
    staff_page = client.get(f"/merchant/applications/{app_id}/contract/read")
    assert staff_page.status_code == 200
    staff_words = _page_text(staff_page.text)
    assert "借款人（消费者）：张**" in staff_words and "张三丰" not in staff_page.text
    signed_pdf = client.get(f"/api/v1/applications/{app_id}/contract.pdf")
    assert signed_pdf.status_code == 200
    assert _pdf_text(signed_pdf.content, tmp_path) == staff_words
    assert staff_words == words.replace("张三丰", "张**")


def test_no_one_else_reads_the_borrowers_contract(client: TestClient, session: Session, world: World) -> None:
    app_id, _, _ = _signed_at_the_till(session, world)
    sign_in(client, session, "13700137555", "别人")
    for path in (f"/shop/applications/{app_id}/contract", f"/shop/applications/{app_id}/contract.pdf"):
        response = client.get(path)
        assert response.status_code == 403 and "张三丰" not in response.text, path
