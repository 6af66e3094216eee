"""Know-your-customer checks on what the shopper types: name, resident ID, mobile number, bank card.

Validation is done by python-stdnum (GB 11643 ID numbers, Luhn) and phonenumbers; these functions
only turn their verdicts into clear errors and the values origination needs (birth date, age).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from fenqi.origination.errors import InvalidBankCard, InvalidIdNumber, InvalidName, InvalidPhone

# Han characters with the middle dot of minority names (买买提·艾力), or Latin letters and spaces.
_NAME = re.compile(r"^(?:[\u4e00-\u9fff\u3400-\u4dbf]+(?:[·•][\u4e00-\u9fff\u3400-\u4dbf]+)*|[A-Za-z][A-Za-z .'-]*)$")


def check_name(raw: str) -> str:
    name = " ".join(str(raw).split())
    if not 2 <= len(name) <= 30 or not _NAME.match(name):
        raise InvalidName()
    return name


@dataclass(frozen=True, slots=True)
class ResidentId:
    number: str
    birth_date: date

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def check_id_number(raw: str, today: date) -> ResidentId:
    """An 18-digit resident ID number (GB 11643): length, region, birth date and the check digit."""
    try:
        number = ric.validate(str(raw))
    except InvalidLength:
        raise InvalidIdNumber("须为 18 位 / must be 18 characters") from None
    except InvalidChecksum:
        raise InvalidIdNumber("校验码错误 / wrong check digit") from None
    except InvalidComponent:
        raise InvalidIdNumber("出生日期或地区码无效 / invalid birth date or region code") from None
    except (InvalidFormat, ValidationError):
        raise InvalidIdNumber("格式错误 / wrong format") from None
    birth = ric.get_birth_date(number)
    if birth > today:
        raise InvalidIdNumber("出生日期在未来 / birth date in the future")
    return ResidentId(number, birth)


def check_mobile(raw: str) -> str:
    """A mainland China mobile number, returned as 11 digits."""
    try:
        parsed = phonenumbers.parse(str(raw), "CN")
    except phonenumbers.NumberParseException:
        raise InvalidPhone(str(raw)[:20]) from None
    if (
        parsed.country_code != 86
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise InvalidPhone(str(raw)[:20])
    return str(parsed.national_number)


def check_bank_card(raw: str) -> str:
    """A debit card number (银联 cards are 16–19 digits; some older ones 15), Luhn-checked."""
    digits = re.sub(r"[\s-]", "", str(raw))
    if not digits.isdigit() or not 15 <= len(digits) <= 19 or not luhn.is_valid(digits):
        raise InvalidBankCard()
    return digits
