"""Products mentioned in a text: named catalogue products and generic product types.

Why: "which products draw size complaints" needs the product in the tags. Two lexicons are
searched: named products (the configuration's ``products`` plus the catalogue names found in the
workspace, each also without its variant suffix: "真丝法式连衣裙 黑色" is mentioned as
"真丝法式连衣裙") and product types ("连衣裙", "dress" -> ``dress``).

Example::

    finder = ProductFinder(config, catalog_names=["真丝法式连衣裙 黑色"])
    finder.tags(fold_text("买的真丝法式连衣裙M码太小"))
    # ['product:真丝法式连衣裙', 'product_type:dress']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from custodia.collect.text_mining.config import TextMiningConfig
from custodia.collect.text_mining.phrases import PhraseFinder
from custodia.collect.text_mining.tokenize import fold_text, has_cjk

PRODUCT_TAG = "product:"
PRODUCT_TYPE_TAG = "product_type:"
MIN_NAME_LENGTH = {"zh": 3, "en": 5}  # shorter catalogue names would match ordinary words
_VARIANT_SPLIT = re.compile(r"\s*[,，|/]\s*")


def base_product_name(name: str) -> str:
    """A catalogue name without its variant (colour, size) suffix.

    The variant is what follows a comma, a bar or a slash ("Silk Dress, Black"); in a Chinese
    name also what follows the last space ("真丝法式连衣裙 黑色").

    Example::

        base_product_name("Minimal Tencel Trousers, Navy")   # 'Minimal Tencel Trousers'
    """
    head = _VARIANT_SPLIT.split(name.strip(), maxsplit=1)[0]
    if has_cjk(head) and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.strip()


def catalog_phrases(names: Iterable[str]) -> dict[str, str]:
    """Phrase -> canonical product for catalogue names: the full name and its base name."""
    phrases: dict[str, str] = {}
    for name in names:
        base = base_product_name(name)
        for form in (name.strip(), base):
            if _long_enough(form):
                phrases.setdefault(form, base)
    return phrases


class ProductFinder:
    """Finds named products and product types in folded text."""

    def __init__(self, config: TextMiningConfig, catalog_names: Iterable[str] = ()) -> None:
        named = catalog_phrases(catalog_names) if config.catalog_from_workspace else {}
        for entry in config.products:
            for form in (entry.name, *entry.aliases):
                named[form] = entry.name
        types = {word: key for key, words in config.product_types.items() for word in words}
        self._products = PhraseFinder(named)
        self._types = PhraseFinder(types)

    def tags(self, folded: str) -> list[str]:
        """``product:<name>`` and ``product_type:<key>`` tags, each once, in order of mention."""
        found = [PRODUCT_TAG + p for p in self._products.find(folded)]
        found += [PRODUCT_TYPE_TAG + t for t in self._types.find(folded)]
        return list(dict.fromkeys(found))


def _long_enough(form: str) -> bool:
    folded = fold_text(form)
    return len(folded) >= MIN_NAME_LENGTH["zh" if has_cjk(folded) else "en"]
