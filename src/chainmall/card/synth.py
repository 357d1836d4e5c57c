"""Seeded synthetic business cards with known ground truth, for evaluation.

:func:`make_card_truth` draws contacts (pure, numpy only); :func:`render_card`
draws one onto an image with a real CJK font (Pillow, lazily imported) in one
of three layouts, with label styles, background tint, noise, blur and a slight
rotation, all from the given seed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chainmall._optional import import_optional
from chainmall._validation import check_scalar
from chainmall.exceptions import OptionalDependencyError

__all__ = ["LAYOUTS", "card_lines", "find_cjk_font", "make_card_truth", "render_card"]

LAYOUTS = ("left", "centered", "two_column")
_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)
_FONT_NAMES = (
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "NotoSerifCJK-Regular.ttc",
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "msyh.ttc",
    "PingFang.ttc",
)

_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红")
_EN_FIRST = [
    "Alice",
    "Brian",
    "Chen",
    "David",
    "Emily",
    "Frank",
    "Grace",
    "Henry",
    "Iris",
    "Jack",
    "Linda",
    "Kevin",
]
_EN_LAST = ["Wang", "Li", "Zhang", "Smith", "Johnson", "Liu", "Brown", "Chen", "Taylor", "Zhou"]
_CITIES = [
    ("上海市", "浦东新区", "021", "Shanghai", "Pudong"),
    ("北京市", "海淀区", "010", "Beijing", "Haidian"),
    ("广东省深圳市", "南山区", "0755", "Shenzhen", "Nanshan"),
    ("浙江省杭州市", "西湖区", "0571", "Hangzhou", "Xihu"),
    ("广东省广州市", "天河区", "020", "Guangzhou", "Tianhe"),
    ("四川省成都市", "武侯区", "028", "Chengdu", "Wuhou"),
]
_ROADS = [
    ("张江路", "Zhangjiang Road"),
    ("文三路", "Wensan Road"),
    ("科技园路", "Science Park Road"),
    ("中山路", "Zhongshan Road"),
    ("天府大道", "Tianfu Avenue"),
]
_BRANDS = [
    ("云帆", "Yunfan"),
    ("星河", "Xinghe"),
    ("鼎盛", "Dingsheng"),
    ("青禾", "Qinghe"),
    ("远航", "Yuanhang"),
    ("博雅", "Boya"),
]
_TRADES = [
    ("信息科技", "Information Technology"),
    ("电子商务", "E-commerce"),
    ("食品", "Foods"),
    ("贸易", "Trading"),
    ("文化传媒", "Media"),
]
_ZH_SUFFIX = ["有限公司", "股份有限公司", "有限责任公司"]
_EN_SUFFIX = ["Co., Ltd.", "Inc.", "Co.,Ltd", "Corporation"]
_ZH_TITLES = [
    "总经理",
    "销售总监",
    "市场部经理",
    "高级工程师",
    "董事长",
    "客户经理",
    "产品设计师",
    "创始人",
]
_EN_TITLES = [
    "General Manager",
    "Sales Director",
    "Marketing Manager",
    "Senior Engineer",
    "CEO",
    "Account Manager",
    "Product Designer",
    "Founder",
]
_PINYIN = {
    "云帆": "yunfan",
    "星河": "xinghe",
    "鼎盛": "dingsheng",
    "青禾": "qinghe",
    "远航": "yuanhang",
    "博雅": "boya",
}


def make_card_truth(n: int, seed: int) -> pd.DataFrame:
    """``n`` random contacts (half Chinese, half English cards) with every field filled.

    Returns:
        columns ``card_id, lang, name, title, company, mobile, landline, email,
        website, address`` (phones normalised as :func:`extract_contact` returns them).
    """
    n = check_scalar(n, "n", "count", ge=0, le=1_000_000)
    rng = np.random.default_rng(check_scalar(seed, "seed", "count", ge=0))
    rows = []
    for card in range(n):
        lang = "zh" if card % 2 == 0 else "en"
        city, district, area, city_en, district_en = _CITIES[rng.integers(len(_CITIES))]
        road, road_en = _ROADS[rng.integers(len(_ROADS))]
        brand, brand_en = _BRANDS[rng.integers(len(_BRANDS))]
        trade, trade_en = _TRADES[rng.integers(len(_TRADES))]
        number, floor = int(rng.integers(1, 999)), int(rng.integers(2, 30))
        mobile = f"1{rng.choice([3, 5, 7, 8, 9])}{rng.integers(0, 10**9):09d}"
        digits = 8 if len(area) == 3 else 7 + int(rng.integers(0, 2))
        subscriber = f"{rng.integers(2, 10)}{rng.integers(0, 10 ** (digits - 1)):0{digits - 1}d}"
        domain = f"{_PINYIN[brand]}{rng.choice(['tech', 'group', 'china', ''])}.{rng.choice(['com', 'cn', 'com.cn'])}"
        if lang == "zh":
            name = _SURNAMES[rng.integers(len(_SURNAMES))] + "".join(
                rng.choice(_GIVEN, rng.integers(1, 3))
            )
            title = str(rng.choice(_ZH_TITLES))
            company = f"{city[-3:-1] if len(city) > 3 else city[:2]}{brand}{trade}{rng.choice(_ZH_SUFFIX)}"
            address = f"{city}{district}{road}{number}号{floor}楼"
            user = f"{rng.choice(['info', 'sales', 'hr', 'service'])}{rng.integers(1, 99)}"
        else:
            first, last = str(rng.choice(_EN_FIRST)), str(rng.choice(_EN_LAST))
            name, title = f"{first} {last}", str(rng.choice(_EN_TITLES))
            company = f"{brand_en} {trade_en} {rng.choice(_EN_SUFFIX)}"
            address = f"Floor {floor}, No. {number} {road_en}, {district_en} District, {city_en}"
            user = f"{first.lower()}.{last.lower()}"
        rows.append(
            {
                "card_id": card,
                "lang": lang,
                "name": name,
                "title": title,
                "company": company,
                "mobile": mobile,
                "landline": f"{area}-{subscriber}",
                "email": f"{user}@{domain}",
                "website": f"www.{domain}",
                "address": address,
            }
        )
    return pd.DataFrame(rows)


def find_cjk_font() -> Path:
    """Path of an installed font with Chinese glyphs (Noto Sans CJK preferred).

    Searched in the system font folders, or in the folders listed in the
    ``CHAINMALL_FONT_DIRS`` environment variable (``os.pathsep``-separated) when it
    is set, e.g. to point at fonts of your own.

    Raises:
        OptionalDependencyError: no such font is installed.
    """
    override = os.environ.get("CHAINMALL_FONT_DIRS")
    folders = override.split(os.pathsep) if override is not None else _FONT_DIRS
    for name in _FONT_NAMES:
        for folder in folders:
            hits = sorted(Path(folder).rglob(name)) if folder and Path(folder).is_dir() else []
            if hits:
                return hits[0]
    raise OptionalDependencyError(
        "no CJK font found to render cards: apt-get install fonts-noto-cjk (Debian/Ubuntu), "
        "or set CHAINMALL_FONT_DIRS to a folder holding one"
    )


def card_lines(row: pd.Series, *, seed: int) -> list[tuple[str, str]]:
    """(role, text) per printed line of a card; labels and phone formats vary with ``seed``."""
    rng = np.random.default_rng(seed)
    zh = row["lang"] == "zh"
    labelled = rng.uniform() < 0.7
    m, land = row["mobile"], row["landline"]
    area, sub = land.split("-")
    mobile_text = rng.choice([m, f"{m[:3]} {m[3:7]} {m[7:]}", f"+86 {m[:3]}-{m[3:7]}-{m[7:]}"])
    land_text = rng.choice([land, f"({area}) {sub}", f"+86 {area[1:]} {sub}"])
    labels = (
        ("手机：", "电话：", "邮箱：", "网址：", "地址：")
        if zh
        else ("M: ", "T: ", "E: ", "W: ", "A: ")
    )
    if not labelled:
        labels = ("", "", "", "", "地址：" if zh else "")
    return [
        ("company", row["company"]),
        ("name", row["name"]),
        ("title", row["title"]),
        ("mobile", labels[0] + mobile_text),
        ("landline", labels[1] + land_text),
        ("email", labels[2] + row["email"]),
        ("website", labels[3] + row["website"]),
        ("address", labels[4] + row["address"]),
    ]


def render_card(row: pd.Series, *, seed: int, font_path: str | Path | None = None) -> Any:
    """Draw one card (a row of :func:`make_card_truth`) as an RGB ``PIL.Image`` (1000 x 600 px)."""
    image_mod = import_optional("PIL.Image", extra="ocr")
    draw_mod = import_optional("PIL.ImageDraw", extra="ocr")
    font_mod = import_optional("PIL.ImageFont", extra="ocr")
    filter_mod = import_optional("PIL.ImageFilter", extra="ocr")
    rng = np.random.default_rng(seed)
    font_file = str(font_path or find_cjk_font())
    width, height = 1000, 600
    background = tuple(int(v) for v in 255 - rng.integers(0, 30, 3))
    ink = tuple(int(v) for v in rng.integers(0, 60, 3))
    img = image_mod.new("RGB", (width, height), background)
    draw = draw_mod.Draw(img)
    layout = LAYOUTS[int(rng.integers(len(LAYOUTS)))]
    big, small = font_mod.truetype(font_file, 46), font_mod.truetype(font_file, 26)
    mid = font_mod.truetype(font_file, 32)
    lines = card_lines(row, seed=seed)
    size = {"name": big, "company": mid}
    y = 40
    for role, text in lines:
        font = size.get(role, small)
        box = draw.textbbox((0, 0), text, font=font)
        w, h = box[2] - box[0], box[3] - box[1]
        if layout == "centered":
            x = (width - w) // 2
        elif layout == "two_column" and role in ("mobile", "landline", "email", "website"):
            x = width - w - 50
        else:
            x = 50
        if layout == "two_column" and role == "mobile":
            y = 200
        draw.text((x, y), text, font=font, fill=ink)
        y += h + int(rng.integers(18, 30))
    angle = float(rng.uniform(-2.5, 2.5))
    img = img.rotate(angle, expand=False, fillcolor=background, resample=image_mod.BICUBIC)
    if rng.uniform() < 0.5:
        img = img.filter(filter_mod.GaussianBlur(radius=float(rng.uniform(0.3, 1.0))))
    pixels = np.asarray(img, dtype=np.float64)
    pixels += rng.normal(0.0, float(rng.uniform(3, 12)), pixels.shape)
    return image_mod.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
