"""Mainland China mobile numbers: validated with phonenumbers, kept as the 11-digit national number."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

from fenqi.identity.errors import InvalidPhone
from fenqi.kit.crypto import mask_phone

_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
# What a typed number may hold besides its digits. Letters are refused before parsing: phonenumbers reads
# them as a keypad's vanity letters ("138ABCD8000" would become 13822238000, somebody else's phone).
_SEPARATORS = frozenset(" +-().\u3000（）－＋")


def _digits_and_separators(text: str) -> bool:
    """ASCII or full-width decimal digits (an IME types those), and separators; not "²" or "①"."""
    return all(("0" <= c <= "9") or ("０" <= c <= "９") or c in _SEPARATORS for c in text)


def normalize_mobile(raw: str) -> str:
    """"+86 138-0013-8000" → "13800138000"; anything that is not a CN mobile number is refused."""
    text = (raw or "").strip()
    if not _digits_and_separators(text):
        raise InvalidPhone(mask_phone(text[:20]))
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidPhone(mask_phone(text)) from None
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _MOBILE
    ):
        raise InvalidPhone(mask_phone(text))
    return phonenumbers.national_significant_number(number)
