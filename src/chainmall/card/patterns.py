"""Patterns and vocabularies for business-card fields (mainland China and English cards).

Phone numbers are matched on text where separators (spaces, dashes, dots,
brackets) are allowed between digit groups, then normalised:

- mobile: ``1[3-9]`` + 9 digits, optional ``+86`` / ``0086`` / ``86`` prefix
  -> ``13812345678``;
- landline: trunk ``0`` + area code (``10``, ``2x`` or three digits) + 7-8 digit
  subscriber number, optional ``+86`` (trunk 0 dropped or bracketed ``(0)``) and
  extension (``转``, ``ext``, ``x``) -> ``021-61234567`` (``-8001`` for an
  extension); service numbers ``400/800`` + 7 digits -> ``400-123-4567``.
"""

from __future__ import annotations

import re

__all__ = [
    "ADDRESS_CUES_EN",
    "ADDRESS_CUES_ZH",
    "COMPANY_STRONG",
    "COMPANY_WEAK",
    "EMAIL",
    "FIELD_LABELS",
    "LANDLINE",
    "MOBILE",
    "SERVICE",
    "SURNAMES",
    "TITLES_EN",
    "TITLES_ZH",
    "WEBSITE",
]

_SEP = r"[\s\-.·]?"
MOBILE = re.compile(
    rf"(?<![\d+])(?:(?:\+|00)?86{_SEP}?)?(1[3-9]\d)(?:{_SEP})(\d{{4}})(?:{_SEP})(\d{{4}})(?!\d)"
)
LANDLINE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)86[\s\-]?(?:\(0\))?[\s\-]?\(?0?|\(?0)"
    r"(10|2\d|[3-9]\d{2})\)?[\s\-]?(\d{3,4})[\s\-]?(\d{4})"
    r"(?:\s*(?:转|ext\.?|x|-)\s*(\d{1,5}))?(?!\d)",
    re.IGNORECASE,
)
SERVICE = re.compile(r"(?<!\d)([48]00)[\s\-]?(\d{3})[\s\-]?(\d{4})(?!\d)")
EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-]+\s?@\s?[A-Za-z0-9\-]+(?:\s?\.\s?[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
WEBSITE = re.compile(
    r"(?<![@\w.])((?:https?://)?(?:www\.)?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*"
    r"\.(?:com|cn|net|org|io|co|biz|info|top|vip|shop|hk|tw)(?:\.cn)?(?:/[^\s]*)?)(?![\w@])",
    re.IGNORECASE,
)

COMPANY_STRONG = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "Co., Ltd.",
    "Co.,Ltd.",
    "Co., Ltd",
    "Co.,Ltd",
    "Company Limited",
    "Limited",
    "Inc.",
    "Inc",
    "Corporation",
    "Corp.",
    "LLC",
    "GmbH",
)
COMPANY_WEAK = (
    "公司",
    "集团",
    "工作室",
    "事务所",
    "研究院",
    "商行",
    "门店",
    "Group",
    "Studio",
    "Technologies",
    "Trading",
)

TITLES_ZH = (
    "董事长",
    "副董事长",
    "总裁",
    "副总裁",
    "首席执行官",
    "首席技术官",
    "首席财务官",
    "总经理",
    "副总经理",
    "执行董事",
    "创始人",
    "联合创始人",
    "合伙人",
    "总监",
    "经理",
    "主管",
    "主任",
    "店长",
    "工程师",
    "设计师",
    "顾问",
    "专员",
    "助理",
    "代表",
    "会计师",
    "律师",
    "讲师",
    "秘书",
)
TITLES_EN = (
    "Chairman",
    "President",
    "Vice President",
    "CEO",
    "CTO",
    "CFO",
    "COO",
    "Chief",
    "Founder",
    "Co-founder",
    "Partner",
    "Director",
    "Manager",
    "Head of",
    "Lead",
    "Engineer",
    "Designer",
    "Consultant",
    "Specialist",
    "Representative",
    "Assistant",
    "Accountant",
    "Lawyer",
    "Officer",
    "Supervisor",
    "Owner",
)

ADDRESS_CUES_ZH = (
    "省",
    "市",
    "区",
    "县",
    "镇",
    "路",
    "街",
    "道",
    "号",
    "楼",
    "室",
    "大厦",
    "园",
    "层",
    "弄",
)
ADDRESS_CUES_EN = (
    "Road",
    "Rd",
    "Street",
    "St.",
    "Avenue",
    "Ave",
    "District",
    "Floor",
    "Room",
    "Building",
    "Tower",
    "Suite",
    "No.",
    "Province",
    "City",
)

SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
"""The most common single-character Chinese surnames (together ~90% of people)."""
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "尉迟", "长孙")

FIELD_LABELS = re.compile(
    r"^\s*(?:(?:手机|移动电话|电话|座机|固话|传真|邮箱|电子邮箱|邮件|网址|网站|官网|地址|公司|职位|姓名)"
    r"\s*[:：]?|(?:Mobile|Mob|Cell|Phone|Tel|Telephone|Fax|E-?mail|Web(?:site)?|URL|Add(?:ress)?|"
    r"Company|Title|Name)\b\s*[:：.]?|[MTFEWA]\s*[:：])\s*",
    re.IGNORECASE,
)
FAX_CUE = re.compile(r"传真|fax|^\s*F\s*[:：]", re.IGNORECASE)
