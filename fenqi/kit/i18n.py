"""Language choice: zh-CN first, English by Accept-Language, a `lang` cookie or query parameter."""

from __future__ import annotations

SUPPORTED = ("zh", "en")


def pick_language(accept_language: str | None, override: str | None = None) -> str:
    """Return "zh" or "en". An explicit override wins; otherwise the highest-weighted supported tag."""
    if override and override[:2].lower() in SUPPORTED:
        return override[:2].lower()
    if not accept_language:
        return "zh"
    best, best_q = "zh", -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])  # a header weight, not money
            except ValueError:
                q = 0.0
        lang = tag.strip()[:2].lower()
        if lang in SUPPORTED and q > best_q:
            best, best_q = lang, q
    return best
