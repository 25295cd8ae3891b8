"""Products mentioned: catalogue names (with and without their variant) and product types."""

from __future__ import annotations

from custodia.collect.text_mining import (
    ProductEntry,
    ProductFinder,
    base_product_name,
    default_config,
    fold_text,
)


def test_base_names_drop_the_variant() -> None:
    assert base_product_name("真丝法式连衣裙 黑色") == "真丝法式连衣裙"
    assert base_product_name("限量·天丝简约西装裤 藏青") == "限量·天丝简约西装裤"
    assert base_product_name("Minimal Tencel Trousers, Navy") == "Minimal Tencel Trousers"
    assert base_product_name("Blue Jeans") == "Blue Jeans"


def test_catalogue_products_and_types_are_tagged_in_chinese() -> None:
    finder = ProductFinder(default_config(), catalog_names=["真丝法式连衣裙 黑色", "羊毛大衣 白色"])
    tags = finder.tags(fold_text("买的真丝法式连衣裙M码太小了，羊毛大衣 白色也不合适"))
    assert tags == [
        "product:真丝法式连衣裙",
        "product:羊毛大衣",
        "product_type:dress",
        "product_type:coat",
    ]


def test_english_products_come_from_aliases_and_types() -> None:
    config = default_config().model_copy(
        update={"products": (ProductEntry(name="真丝法式连衣裙", aliases=("French Silk Dress",)),)}
    )
    tags = ProductFinder(config).tags(fold_text("My French Silk Dress and two T-shirts"))
    assert tags == ["product:真丝法式连衣裙", "product_type:dress", "product_type:t_shirt"]


def test_catalogue_names_can_be_switched_off_and_short_names_are_ignored() -> None:
    off = default_config().model_copy(update={"catalog_from_workspace": False})
    assert ProductFinder(off, ["真丝法式连衣裙 黑色"]).tags(fold_text("真丝法式连衣裙")) == [
        "product_type:dress"
    ]
    assert ProductFinder(default_config(), ["包 黑色"]).tags(fold_text("包裹还没到")) == []
