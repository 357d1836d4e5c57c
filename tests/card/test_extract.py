"""Field extraction from already-OCR'd text: golden cards, phone formats, properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainmall.card import extract_contact
from chainmall.exceptions import DataValidationError

ZH_CARD = """上海云帆信息科技有限公司
张 伟
销售总监
手机：+86 138-1234-5678
电话：(021) 6123 4567 转 801
传真: 021-61234568
邮箱: zhang.wei@yunfan-tech.com
网址：www.yunfan-tech.com
地址：上海市浦东新区张江路 88 号 5 楼"""

EN_CARD = [
    "Acme Trading Co., Ltd.",
    "Alice Johnson | Senior Sales Manager",
    "M: +86 139 0000 1111",
    "T: +86 (0)755 8888 9999",
    "alice@acme.com.cn",
    "Room 1201, Tower B, 88 Shennan Road, Futian District, Shenzhen",
    "acme.com.cn",
]


def test_golden_chinese_card() -> None:
    c = extract_contact(ZH_CARD)
    assert c.as_record() == {
        "name": "张伟",
        "title": "销售总监",
        "company": "上海云帆信息科技有限公司",
        "mobile": "13812345678",
        "landline": "021-61234567-801",
        "fax": "021-61234568",
        "email": "zhang.wei@yunfan-tech.com",
        "website": "www.yunfan-tech.com",
        "address": "上海市浦东新区张江路88号5楼",  # OCR spaces next to Han dropped
    }
    conf = c.confidences()
    assert conf["mobile"] == 0.97  # labelled 手机
    assert conf["company"] == 0.95  # legal suffix 有限公司
    assert c.name is not None and c.name.line == 1


def test_golden_english_card() -> None:
    c = extract_contact(EN_CARD)
    rec = c.as_record()
    assert rec["name"] == "Alice Johnson"
    assert rec["title"] == "Senior Sales Manager"
    assert rec["company"] == "Acme Trading Co., Ltd."
    assert rec["mobile"] == "13900001111"
    assert rec["landline"] == "0755-88889999"
    assert rec["email"] == "alice@acme.com.cn"
    assert rec["website"] == "acme.com.cn"
    assert rec["address"] is not None and rec["address"].startswith("Room 1201")
    assert c.confidences()["website"] < c.confidences()["email"]  # bare domain is weaker


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086-138-1234-5678",
        "86 13812345678",
        "手机:138.1234.5678",
        "Ｍｏｂｉｌｅ：１３８１２３４５６７８",  # full-width
    ],
)
def test_mobile_formats(text: str) -> None:
    c = extract_contact(text)
    assert [m.value for m in c.mobile] == ["13812345678"]
    assert c.landline == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("010-62345678", "010-62345678"),
        ("(010) 6234 5678", "010-62345678"),
        ("0755-8888-9999", "0755-88889999"),
        ("+86 21 6123 4567", "021-61234567"),
        ("+86-(0)21-61234567", "021-61234567"),
        ("Tel: 0571 8765432", "0571-8765432"),
        ("电话 021-61234567 转 8001", "021-61234567-8001"),
        ("Tel 021-61234567 ext. 12", "021-61234567-12"),
        ("400-820-8820", "400-820-8820"),
    ],
)
def test_landline_formats(text: str, expected: str) -> None:
    c = extract_contact(text)
    assert [m.value for m in c.landline] == [expected]
    assert c.mobile == ()


def test_not_phones() -> None:
    # too short, too long, wrong prefix digits
    c = extract_contact(["1381234567", "138123456789", "12812345678", "ID 2024-05-01"])
    assert c.mobile == () and c.landline == ()


@pytest.mark.parametrize(
    ("line", "company"),
    [
        ("深圳市腾达股份有限公司", 0.95),
        ("Globex Inc.", 0.95),
        ("Initech Co.,Ltd", 0.95),
        ("北辰集团", 0.7),
        ("Blue Sky Studio", 0.7),
    ],
)
def test_company_suffixes(line: str, company: float) -> None:
    c = extract_contact([line])
    assert c.company is not None
    assert c.company.value == line
    assert c.company.confidence == company


@pytest.mark.parametrize(
    ("line", "name", "title"),
    [
        ("张伟 总经理", "张伟", "总经理"),
        ("欧阳娜娜", "欧阳娜娜", None),
        ("李娜 销售部经理", "李娜", "销售部经理"),
        ("Bob Smith, CEO", "Bob Smith", "CEO"),
        ("Marketing Director", None, "Marketing Director"),
        ("首席技术官", None, "首席技术官"),
        ("高级工程师", None, "高级工程师"),
        ("张 伟  销售总监", "张伟", "销售总监"),  # 高 is a surname, but no space: not a name
        ("W: www. acme.com", None, None),
    ],
)
def test_names_and_titles(line: str, name: str | None, title: str | None) -> None:
    rec = extract_contact([line]).as_record()
    assert (rec["name"], rec["title"]) == (name, title)


def test_address_cues_without_label() -> None:
    rec = extract_contact(["浙江省杭州市西湖区文三路 90 号"]).as_record()
    assert rec["address"] == "浙江省杭州市西湖区文三路90号"
    assert extract_contact(["市场部"]).address is None


def test_email_with_ocr_spaces_is_repaired_with_lower_confidence() -> None:
    c = extract_contact(["li.na @ example.com"])
    assert c.email[0].value == "li.na@example.com"
    assert c.email[0].confidence < 0.95


@pytest.mark.parametrize("empty", ["", "  \n\t ", []])
def test_empty_text_raises(empty: object) -> None:
    with pytest.raises(DataValidationError, match="empty"):
        extract_contact(empty)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(
    head=st.sampled_from(["13", "15", "17", "18", "19"]),
    rest=st.text(alphabet="0123456789", min_size=9, max_size=9),
    prefix=st.sampled_from(["", "+86 ", "0086-", "手机：", "M: ", "Mobile "]),
    sep=st.sampled_from(["", " ", "-"]),
)
def test_property_any_formatted_mobile_normalises(
    head: str, rest: str, prefix: str, sep: str
) -> None:
    number = head + rest
    shown = prefix + number[:3] + sep + number[3:7] + sep + number[7:]
    assert [m.value for m in extract_contact(shown).mobile] == [number]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=8))
def test_property_never_crashes_and_confidences_bounded(lines: list[str]) -> None:
    if not any(line.strip() for line in lines):
        return
    c = extract_contact(lines)
    for value in c.confidences().values():
        assert 0.0 <= value <= 1.0


def test_ocr_split_web_address_is_mended() -> None:
    c = extract_contact(["W: www. acme .com", "E: li @ acme. com"])
    assert c.website is not None and c.website.value == "www.acme.com"
    assert [e.value for e in c.email] == ["li@acme.com"]
