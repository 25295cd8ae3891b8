"""The Lumière 霓裳 product catalogue: categories, SKUs, prices, limited editions, fit.

Why: baskets need seasonal categories (coats in winter, dresses in summer), a price ladder, limited
editions whose appeal to top customers fades in the last six months of the window, and a few
styles that run small (so size complaints cluster on real SKUs). The catalogue is built from a
fixed internal seed, so SKU codes are the same in every demo data set.

Example::

    catalog = build_catalog()
    catalog.sku[0], catalog.name[0]   # e.g. ('LM-DR-001-BK', '真丝法式连衣裙 黑色')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custodia.demo.vectors import BoolArray, FloatArray, IntArray, sample_rows


@dataclass(frozen=True)
class Category:
    """A merchandise category with its selling season (January first) and fit sensitivity."""

    code: str
    zh: str
    en: str
    words: tuple[tuple[str, str], ...]
    price_range: tuple[int, int]
    months: tuple[float, ...]
    sizes: tuple[str, ...]
    size_issue_rate: float
    share: float


_APPAREL = ("S", "M", "L", "XL")
CATEGORIES: tuple[Category, ...] = (
    Category("DR", "连衣裙", "Dresses", (("连衣裙", "Dress"), ("衬衫裙", "Shirt Dress")),
             (399, 1599), (0.3, 0.4, 0.8, 1.2, 1.6, 1.8, 1.8, 1.6, 1.0, 0.5, 0.3, 0.3),
             _APPAREL, 0.05, 1.5),
    Category("TS", "T恤", "T-shirts", (("T恤", "T-shirt"), ("短袖上衣", "Short-sleeve Top")),
             (129, 399), (0.2, 0.2, 0.5, 1.0, 1.6, 2.0, 2.0, 1.8, 1.0, 0.4, 0.2, 0.2),
             _APPAREL, 0.02, 1.0),
    Category("SH", "衬衫", "Shirts", (("衬衫", "Shirt"), ("雪纺衫", "Chiffon Blouse")),
             (259, 799), (1,) * 12, _APPAREL, 0.03, 1.0),
    Category("KN", "针织", "Knitwear", (("针织开衫", "Cardigan"), ("毛衣", "Sweater")),
             (359, 1299), (1.6, 1.2, 0.8, 0.4, 0.2, 0.1, 0.1, 0.2, 0.8, 1.4, 1.8, 1.8),
             _APPAREL, 0.03, 1.0),
    Category("CT", "外套", "Coats",
             (("大衣", "Coat"), ("风衣", "Trench Coat"), ("羽绒服", "Down Jacket")),
             (899, 3999), (1.6, 1.0, 0.5, 0.2, 0.1, 0.05, 0.05, 0.1, 0.5, 1.4, 2.2, 2.2),
             _APPAREL, 0.04, 0.8),
    Category("TR", "裤装", "Trousers",
             (("阔腿裤", "Wide-leg Trousers"), ("西装裤", "Tailored Trousers"),
              ("牛仔裤", "Jeans")),
             (299, 899), (1,) * 12, _APPAREL, 0.06, 1.0),
    Category("SK", "半身裙", "Skirts", (("半身裙", "Skirt"), ("百褶裙", "Pleated Skirt")),
             (299, 899), (0.4, 0.5, 1.0, 1.4, 1.6, 1.6, 1.5, 1.2, 0.9, 0.6, 0.4, 0.4),
             _APPAREL, 0.04, 0.8),
    Category("AC", "配饰", "Accessories",
             (("丝巾", "Silk Scarf"), ("手提包", "Handbag"), ("腰带", "Belt")),
             (199, 1999), (1.2, 1.3, 1, 1, 1, 1, 1, 1, 1, 1, 1.2, 1.4), ("F",), 0.0, 0.6),
    Category("SN", "鞋履", "Shoes",
             (("乐福鞋", "Loafers"), ("高跟鞋", "Heels"), ("小白鞋", "Sneakers")),
             (399, 1299), (1,) * 12, ("35", "36", "37", "38", "39", "40"), 0.05, 0.6),
)  # fmt: skip

_MATERIALS = (("真丝", "Silk"), ("羊毛", "Wool"), ("棉麻", "Cotton-linen"),
              ("醋酸", "Acetate"), ("羊绒", "Cashmere"), ("天丝", "Tencel"), ("针织", "Knit"),
              ("纯棉", "Cotton"))  # fmt: skip
_STYLES = (("法式", "French"), ("复古", "Vintage"), ("简约", "Minimal"),
           ("印花", "Printed"), ("碎花", "Floral"), ("收腰", "Waisted"), ("宽松", "Relaxed"),
           ("通勤", "Office"))  # fmt: skip
_COLOURS = (("BK", "黑色", "Black"), ("WH", "白色", "White"), ("RD", "酒红", "Burgundy"),
            ("NV", "藏青", "Navy"), ("BE", "米色", "Beige"),
            ("GR", "灰色", "Grey"))  # fmt: skip
_PRODUCTS_PER_CATEGORY = 10
_CATALOG_SEED = 20241101


@dataclass(frozen=True)
class Catalog:
    """All SKUs (one per product colour) with category index, price and flags."""

    sku: list[str]
    name: list[str]
    name_en: list[str]
    category: IntArray
    price: FloatArray
    limited: BoolArray
    runs_small: BoolArray
    groups: dict[tuple[int, bool], IntArray]

    def __len__(self) -> int:
        return len(self.sku)


def build_catalog() -> Catalog:
    """The fixed catalogue: 10 products per category, 2-3 colours each, 1-2 limited editions."""
    rng = np.random.default_rng(_CATALOG_SEED)
    sku, name, name_en, category, price, limited, small = [], [], [], [], [], [], []
    for c, cat in enumerate(CATEGORIES):
        limited_products = set(rng.choice(_PRODUCTS_PER_CATEGORY, size=2, replace=False).tolist())
        for p in range(_PRODUCTS_PER_CATEGORY):
            word = cat.words[p % len(cat.words)]
            materials = [m for m in _MATERIALS if m[0] not in word[0]]
            material = materials[int(rng.integers(0, len(materials)))]
            style = _STYLES[int(rng.integers(0, len(_STYLES)))]
            base = float(rng.integers(cat.price_range[0] // 10, cat.price_range[1] // 10 + 1)) * 10
            is_limited = p in limited_products
            runs_small = bool(rng.random() < 0.15) and cat.size_issue_rate > 0
            colours = rng.choice(len(_COLOURS), size=int(rng.integers(2, 4)), replace=False)
            for k in colours.tolist():
                code, zh, en = _COLOURS[k]
                prefix, prefix_en = ("限量·", "Limited ") if is_limited else ("", "")
                sku.append(f"LM-{cat.code}-{p + 1:03d}-{code}")
                name.append(f"{prefix}{material[0]}{style[0]}{word[0]} {zh}")
                name_en.append(f"{prefix_en}{style[1]} {material[1]} {word[1]}, {en}")
                category.append(c)
                price.append(base * 1.6 - 1 if is_limited else base - 1)
                limited.append(is_limited)
                small.append(runs_small)
    cats = np.array(category, dtype=np.int64)
    flags = np.array(limited, dtype=bool)
    groups = {
        (c, f): np.flatnonzero((cats == c) & (flags == f)).astype(np.int64)
        for c in range(len(CATEGORIES))
        for f in (False, True)
    }
    return Catalog(sku, name, name_en, cats, np.array(price), flags, np.array(small), groups)


def draw_skus(
    rng: np.random.Generator, catalog: Catalog, months: IntArray, limited_probability: FloatArray
) -> IntArray:
    """One SKU per line: category by selling season (month 1-12), limited edition by probability."""
    weights = np.array([[c.share * c.months[m] for c in CATEGORIES] for m in range(12)])
    cats = sample_rows(rng, weights[months - 1])
    wants_limited = rng.random(len(months)) < limited_probability
    out = np.zeros(len(months), dtype=np.int64)
    for (c, flag), members in catalog.groups.items():
        rows = np.flatnonzero((cats == c) & (wants_limited == flag))
        out[rows] = members[rng.integers(0, len(members), size=len(rows))]
    return out


_SIZE_WEIGHTS = {4: (0.25, 0.4, 0.25, 0.1), 6: (0.1, 0.2, 0.3, 0.25, 0.1, 0.05), 1: (1.0,)}


def draw_sizes(rng: np.random.Generator, catalog: Catalog, skus: IntArray) -> list[str]:
    """A size per line that fits the category (S-XL, shoe sizes 35-40, or F for accessories)."""
    cats = catalog.category[skus]
    out = np.empty(len(skus), dtype=object)
    for c, cat in enumerate(CATEGORIES):
        rows = np.flatnonzero(cats == c)
        weights = np.array(_SIZE_WEIGHTS[len(cat.sizes)])
        picks = rng.choice(len(weights), size=len(rows), p=weights)
        out[rows] = np.array(cat.sizes, dtype=object)[picks]
    return [str(s) for s in out]
