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
from stdnum.exceptions import ValidationError

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


# Province-level prefixes of GB/T 2260 (the first two digits of every resident ID number), plus 83:
# the residence permits of Taiwan residents (830000; Hong Kong 810000 and Macao 820000 are in the table).
# Only the province is checked: county codes are created, merged and renamed over the years while
# people keep their numbers, so a code newer than the birth year (浦东新区 310115, 1992) or missing
# from any one table is still a real number.
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82", "83",
})
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
OLDEST_AGE = 120  # a birth date further back is a typing mistake, not a shopper


def check_id_number(raw: str, today: date) -> ResidentId:
    """An 18-digit resident ID number (GB 11643): its shape, province, birth date (a real date, not in
    the future, an age a living person can have) and the check digit (python-stdnum's ISO 7064)."""
    number = ric.compact(str(raw))
    if len(number) != 18:
        raise InvalidIdNumber("须为 18 位 / must be 18 characters")
    if not _ID_SHAPE.match(number):
        raise InvalidIdNumber("格式错误 / wrong format")
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidIdNumber("校验码错误 / wrong check digit")
    if number[:2] not in PROVINCES:
        raise InvalidIdNumber("地区码无效 / unknown region code")
    try:
        birth = ric.get_birth_date(number)
    except ValidationError:
        raise InvalidIdNumber("出生日期无效 / invalid birth date") from None
    if birth > today:
        raise InvalidIdNumber("出生日期在未来 / birth date in the future")
    if ResidentId(number, birth).age_on(today) > OLDEST_AGE:
        raise InvalidIdNumber("出生日期无效 / invalid birth date")
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
