"""Mainland China mobile numbers: validated with phonenumbers, kept as the 11-digit national number."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

from fenqi.identity.errors import InvalidPhone
from fenqi.kit.crypto import mask_phone

_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_mobile(raw: str) -> str:
    """"+86 138-0013-8000" → "13800138000"; anything that is not a CN mobile number is refused."""
    text = (raw or "").strip()
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
