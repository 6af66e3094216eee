"""Resident ID numbers (GB 11643) as people really hold them: county codes change over time and people
keep their numbers, so only the shape, the province, the birth date and the check digit are checked."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from stdnum.cn import ric

from fenqi.kit.errors import DomainError
from fenqi.origination.kyc import check_id_number
from tests.origination.world import World

TODAY = date(2026, 11, 30)

# Real-format numbers (check digits by ISO 7064 MOD 11-2) whose county code is newer than the birth year,
# unknown to python-stdnum's table, or a residence permit of Hong Kong, Macao or Taiwan residents.
REAL = [
    ("310115198807094562", date(1988, 7, 9)),   # 上海浦东新区, a code of 1992
    ("500112198002297334", date(1980, 2, 29)),  # 重庆渝北区 (1994); a leap day
    ("330106197511031282", date(1975, 11, 3)),  # 杭州西湖区
    ("469027197007015527", date(1970, 7, 1)),   # 海南乐东 (1988)
    ("620102196208153016", date(1962, 8, 15)),  # 兰州城关区
    ("810000199505050014", date(1995, 5, 5)),   # 港澳台居民居住证: Hong Kong
    ("830000199301010049", date(1993, 1, 1)),   # Taiwan
    ("440305198506120023", date(1985, 6, 12)),  # 深圳南山区
]


@pytest.mark.parametrize(("number", "born"), REAL)
def test_real_numbers_are_accepted_with_their_birth_date(number: str, born: date) -> None:
    resident = check_id_number(number, TODAY)
    assert resident.number == number
    assert resident.birth_date == born


def test_a_lower_case_x_check_digit_is_the_same_number() -> None:
    body = "11010519491231002"
    number = body + ric.calc_check_digit(body + "0")
    assert number.endswith("X")
    assert check_id_number(number.lower(), TODAY).number == number


def _with_check_digit(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize(("number", "zh"), [
    ("31011519880709456", "18 位"),
    ("3101151988070945622", "18 位"),
    ("31011519880709456A", "格式"),
    ("3101151988O709456" + "2", "格式"),
    ("310115198807094563", "校验码"),
    (_with_check_digit("99011519880709456"), "地区码"),       # no province 99
    (_with_check_digit("00011519880709456"), "地区码"),
    (_with_check_digit("31011519880230456"), "出生日期"),     # 30 February
    (_with_check_digit("31011519881301456"), "出生日期"),     # month 13
    (_with_check_digit("31011520270101456"), "未来"),         # born after today
    (_with_check_digit("31011518990101456"), "出生日期"),     # 127 years old
])
def test_wrong_numbers_are_refused_with_the_reason(number: str, zh: str) -> None:
    with pytest.raises(DomainError) as caught:
        check_id_number(number, TODAY)
    assert caught.value.code == "id_number_invalid"
    assert zh in caught.value.message("zh")


def test_pudong_number_applies_through_the_api(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    response = client.post("/api/v1/applications", json=world.body(id_number="310115198807094562"), headers=clerk)
    body = response.json()
    assert body.get("error") != "id_number_invalid", body
    assert body["application"]["shopper"]["age"] == 38
    assert body["application"]["shopper"]["id_number"] == "3101**********4562"
