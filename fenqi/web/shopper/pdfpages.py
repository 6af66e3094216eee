"""The e-contract's pages as pictures for phones: mobile browsers rarely show a PDF inside a page, so the
offer page shows each page as a PNG drawn by poppler (`pdftoppm`, Debian poppler-utils) and links the PDF.
Without poppler the page simply shows the link."""

from __future__ import annotations

import re
import shutil
import subprocess

TIMEOUT_SECONDS = 20
MAX_PAGES = 30
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def page_count(pdf: bytes) -> int:
    """The number of pages, or 0 when poppler is not installed (no pictures then) or the PDF is unreadable.
    Counted from the PDF's own page objects (fpdf2 writes them as plain objects), so showing the offer page
    starts no process; a PDF that hides them in object streams is asked of `pdfinfo`."""
    if shutil.which("pdftoppm") is None:
        return 0
    pages = len(_PAGE.findall(pdf))
    if pages:
        return min(pages, MAX_PAGES)
    if shutil.which("pdfinfo") is None:
        return 0
    done = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
    found = re.search(rb"^Pages:\s+(\d+)", done.stdout, flags=re.M)
    return min(int(found.group(1)), MAX_PAGES) if done.returncode == 0 and found else 0


def page_png(pdf: bytes, page: int, dpi: int = 110) -> bytes | None:
    """One page (1-based) as a PNG, or None when it cannot be drawn."""
    if shutil.which("pdftoppm") is None or not 1 <= page <= MAX_PAGES:
        return None
    done = subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-"], input=pdf,
                          capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
    return done.stdout if done.returncode == 0 and done.stdout.startswith(b"\x89PNG") else None
