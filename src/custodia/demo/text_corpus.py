"""Template banks for service tickets and product reviews, in Chinese and English.

Why: text tagging (complaint type, sentiment, personal data in free text) needs labelled text
whose labels are known by construction. Each text is built from a template for one complaint type
plus varied openers, closers, intensifiers and emoji, so that no two texts are copies; some carry a
phone number or an order number, as real messages do.

Example::

    text = render_ticket(dice, "size_issue", "zh", Slots(product="真丝连衣裙", size="M"), ())
    # e.g. '您好，买的真丝连衣裙M码穿着太小了，能换大一码吗？谢谢'
"""

from __future__ import annotations

import random
from dataclasses import dataclass

COMPLAINT_TYPES = (
    "logistics_delay", "size_issue", "quality_defect", "refund", "rude_service", "wrong_item",
    "inquiry", "praise",
)  # fmt: skip
COMPLAINT_LABELS = {
    "logistics_delay": "物流延迟", "size_issue": "尺码不合适", "quality_defect": "质量问题",
    "refund": "退款", "rude_service": "服务态度差", "wrong_item": "发错货", "inquiry": "咨询",
    "praise": "表扬",
}  # fmt: skip
SENTIMENT = dict.fromkeys(COMPLAINT_TYPES, "negative") | {
    "inquiry": "neutral",
    "praise": "positive",
}


@dataclass(frozen=True)
class Slots:
    """Values a template may mention."""

    product: str = ""
    size: str = ""
    days: int = 0
    carrier: str = ""
    order_id: str = ""
    phone: str = ""


_TICKETS_ZH: dict[str, tuple[str, ...]] = {
    "logistics_delay": (
        "下单{days}天了还没收到货，{carrier}的物流一直没更新",
        "快递太慢了，说好两天到，现在都第{days}天了",
        "物流信息停在中转站好几天了，我的{product}到底什么时候能到",
        "等了{days}天，包裹还在路上，这个物流速度太让人失望了",
        "买的{product}一直不发货，催了也没用",
    ),
    "size_issue": (
        "买的{product}{size}码穿着太小了，能换大一码吗",
        "{product}尺码偏小，平时穿{size}码，这次完全穿不下",
        "尺码不合适，{product}偏大很多，想换小一码",
        "按尺码表买的{size}码，结果{product}袖子短了一截",
        "{product}腰围太紧，尺码和描述不一样",
    ),
    "quality_defect": (
        "收到的{product}有明显线头，还有一处开线",
        "{product}洗了一次就起球了，这个质量太差了",
        "{product}面料有污渍，拉链也拉不上",
        "刚穿一次{product}就掉色了，把里面的衣服都染了",
        "{product}做工粗糙，和图片差距很大",
    ),
    "refund": (
        "申请退款{days}天了还没到账，请尽快处理",
        "退货已经寄回去了，退款一直显示处理中",
        "为什么退款被拒绝了？{product}我根本没穿过",
        "退款金额不对，少退了运费和优惠券的钱",
    ),
    "rude_service": (
        "客服态度太差了，问了三遍都不回复，最后还直接挂电话",
        "门店店员态度很不耐烦，试穿{product}的时候一直催我",
        "投诉一下客服，说话很冲，问题也没解决",
        "打了好几次热线，客服敷衍了事，体验非常差",
    ),
    "wrong_item": (
        "我买的是{size}码的{product}，收到的却是别的颜色",
        "发错货了，订单里是{product}，包裹里是一条裤子",
        "收到的商品和订单不符，请核实后补发{product}",
    ),
    "inquiry": (
        "请问{product}还会补货吗？想要{size}码",
        "想问一下{product}的面料成分和洗涤方式",
        "会员积分怎么兑换？我的积分快过期了",
        "请问门店可以自提{product}吗",
        "双十一的优惠券可以和会员折扣一起用吗",
    ),
    "praise": (
        "客服小姐姐很耐心，帮我换了{product}的尺码，点赞",
        "门店导购非常专业，搭配建议很好，下次还来",
        "售后处理很快，谢谢你们",
    ),
}
_TICKETS_EN: dict[str, tuple[str, ...]] = {
    "logistics_delay": (
        "My order still hasn't arrived after {days} days and the {carrier} tracking has not moved",
        "Delivery is really slow, it was supposed to take two days and it's been {days}",
        "Where is my {product}? The parcel has been stuck at the hub for days",
    ),
    "size_issue": (
        "The {product} in size {size} is way too small, can I exchange it for a bigger size",
        "Sizing is off, the {product} runs small compared to the size chart",
        "The {product} is too big, I need one size down",
    ),
    "quality_defect": (
        "The {product} arrived with loose threads and a torn seam",
        "The {product} started pilling after one wash, very poor quality",
        "There is a stain on the {product} and the zipper is broken",
    ),
    "refund": (
        "I requested a refund {days} days ago and still haven't received it",
        "I sent the item back but the refund is still pending",
        "The refund amount is wrong, the shipping fee was not included",
    ),
    "rude_service": (
        "The customer service agent was rude and hung up on me",
        "Staff at the store were impatient and unhelpful when I tried on the {product}",
        "Very disappointing service, nobody answered my messages",
    ),
    "wrong_item": (
        "I ordered the {product} in size {size} but received a different item",
        "Wrong item delivered, please send the {product} I ordered",
    ),
    "inquiry": (
        "Will the {product} be restocked in size {size}",
        "How do I redeem my membership points",
        "Can I pick up the {product} in store",
    ),
    "praise": (
        "The service team was super helpful exchanging my {product}, thank you",
        "Lovely staff at the store, great styling advice",
    ),
}
_REVIEWS_ZH: dict[str, tuple[str, ...]] = {
    "praise": (
        "{product}质感很好，上身效果超出预期", "版型很正，颜色和图片一样，很喜欢",
        "面料舒服，做工精致，值得回购", "穿上很显气质，朋友都说好看",
        "包装很用心，衣服很有质感", "第二次买了，品质一如既往",
    ),
    "inquiry": ("{product}还可以，就是价格有点贵", "中规中矩，和预期差不多",
                "颜色比图片稍暗一点，还行"),
    "size_issue": ("{product}尺码偏小，建议拍大一码", "{size}码偏大，退了换小码",
                   "版型偏瘦，胖一点的慎拍"),
    "quality_defect": ("{product}有线头，质量一般", "洗了一次就变形了，失望",
                       "面料起球，不值这个价"),
    "logistics_delay": ("衣服不错，就是物流太慢了，等了{days}天", "快递拖了好久才到"),
    "wrong_item": ("发错颜色了，还要自己去换",),
}  # fmt: skip
_REVIEWS_EN: dict[str, tuple[str, ...]] = {
    "praise": ("Beautiful {product}, great fabric and fit", "Love it, exactly like the photos",
               "Excellent quality, will buy again"),
    "inquiry": ("The {product} is fine but a bit pricey", "It's okay, nothing special"),
    "size_issue": ("Runs small, order one size up", "Size {size} was too big for me"),
    "quality_defect": ("Loose threads everywhere, poor quality", "Shrank after the first wash"),
    "logistics_delay": ("Nice {product} but shipping took {days} days",),
    "wrong_item": ("Received the wrong colour",),
}  # fmt: skip
_OPENERS_ZH = ("", "", "您好，", "你好，", "客服你好，", "在吗？", "麻烦看一下，")
_CLOSERS_ZH = ("", "。", "，谢谢！", "，请尽快处理！", "！！", "。希望尽快给个答复", "，麻烦了🙏")
_CALM_CLOSERS_ZH = ("", "。", "，谢谢！", "～")
_ANGRY_ZH = ("", "", "真的很生气😡", "太失望了", "非常不满意")
_OPENERS_EN = ("", "", "Hi, ", "Hello, ", "Hi there, ")
_CLOSERS_EN = (".", ". Thanks.", ". Please help!", "!!", ". Thank you in advance.")
_PII_ZH = {"phone": "我的手机号是{phone}", "order_id": "订单号：{order_id}"}
_PII_EN = {"phone": "my phone number is {phone}", "order_id": "order number {order_id}"}


def _pick(dice: random.Random, options: tuple[str, ...]) -> str:
    return options[dice.randrange(len(options))]


def render_ticket(
    dice: random.Random, kind: str, language: str, slots: Slots, pii: tuple[str, ...]
) -> str:
    """A customer-service message of one complaint type, optionally mentioning personal data."""
    zh = language == "zh"
    body = _pick(dice, (_TICKETS_ZH if zh else _TICKETS_EN)[kind]).format(**vars(slots))
    extras = [(_PII_ZH if zh else _PII_EN)[p].format(**vars(slots)) for p in pii]
    if zh:
        angry = _pick(dice, _ANGRY_ZH) if SENTIMENT[kind] == "negative" else ""
        parts = [body, *extras, angry]
        joined = "，".join(p for p in parts if p)
        closers = _CLOSERS_ZH if SENTIMENT[kind] == "negative" else _CALM_CLOSERS_ZH
        return f"{_pick(dice, _OPENERS_ZH)}{joined}{_pick(dice, closers)}"
    joined = ", ".join([body, *extras])
    return f"{_pick(dice, _OPENERS_EN)}{joined}{_pick(dice, _CLOSERS_EN)}"


def render_review(
    dice: random.Random, kind: str, language: str, slots: Slots, pii: tuple[str, ...]
) -> str:
    """A short product review for one topic (``praise``/``inquiry`` stand for positive/neutral)."""
    zh = language == "zh"
    body = _pick(dice, (_REVIEWS_ZH if zh else _REVIEWS_EN)[kind]).format(**vars(slots))
    extras = [(_PII_ZH if zh else _PII_EN)[p].format(**vars(slots)) for p in pii]
    tail = _pick(dice, ("", "👍", "～", "！")) if zh else _pick(dice, ("", "!", " :)"))
    sep = "，" if zh else ", "
    return sep.join([body, *extras]) + tail


def review_topics() -> tuple[str, ...]:
    """Topics a review can have (the keys of the review banks)."""
    return tuple(_REVIEWS_ZH)
