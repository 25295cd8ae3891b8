"""Person names (Chinese and English), e-mail addresses, typos and full-width variants.

Why: identity resolution has to match ``王芳`` with ``王　芳`` and ``Emily Chen`` with
``Ｅｍｉｌｙ Ｃｈｅｎ`` or ``Emliy Chen``, and tell two different ``王芳`` apart. The banks below
cover the most common Chinese surnames (with realistic frequencies), given-name characters with
their pinyin (used to derive e-mail addresses), common English names, and homophone or look-alike
characters that clerks and customers really confuse.

Example::

    table = draw_names(rng, female=np.array([True]), english=np.array([False]))
    table.display()   # e.g. ['林晓雯']
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

import numpy as np

from custodia.demo.vectors import BoolArray, IntArray, sample_index


def _bank(text: str) -> tuple[list[str], list[str], list[float]]:
    hanzi, latin, weights = [], [], []
    for item in text.split():
        parts = item.split(":")
        hanzi.append(parts[0])
        latin.append(parts[1])
        weights.append(float(parts[2]) if len(parts) > 2 else 1.0)
    return hanzi, latin, weights


_SURNAMES = _bank(
    "王:wang:7.1 李:li:7.0 张:zhang:6.7 刘:liu:5.4 陈:chen:4.5 杨:yang:3.1 黄:huang:2.2 "
    "赵:zhao:2.0 吴:wu:2.0 周:zhou:1.9 徐:xu:1.5 孙:sun:1.5 马:ma:1.4 朱:zhu:1.3 胡:hu:1.3 "
    "郭:guo:1.1 何:he:1.1 林:lin:1.0 高:gao:1.0 罗:luo:0.9 郑:zheng:0.9 梁:liang:0.8 谢:xie:0.7 "
    "宋:song:0.7 唐:tang:0.7 许:xu:0.6 韩:han:0.6 冯:feng:0.6 邓:deng:0.6 曹:cao:0.6 彭:peng:0.5 "
    "曾:zeng:0.5 肖:xiao:0.5 田:tian:0.5 董:dong:0.5 潘:pan:0.4 袁:yuan:0.4 蔡:cai:0.4 "
    "蒋:jiang:0.4 余:yu:0.4 于:yu:0.4 杜:du:0.4 叶:ye:0.4 程:cheng:0.4 魏:wei:0.3 苏:su:0.3 "
    "吕:lv:0.3 丁:ding:0.3 任:ren:0.3 沈:shen:0.3 姚:yao:0.3 卢:lu:0.3 姜:jiang:0.3 崔:cui:0.3 "
    "钟:zhong:0.3 谭:tan:0.3 陆:lu:0.3 范:fan:0.3 汪:wang:0.3 欧阳:ouyang:0.05 上官:shangguan:0.02"
)
_GIVEN_FEMALE = _bank(
    "芳:fang 娜:na 敏:min 静:jing 丽:li 艳:yan 娟:juan 霞:xia 婷:ting 雪:xue 琳:lin 颖:ying "
    "倩:qian 洁:jie 佳:jia 欣:xin 怡:yi 悦:yue 晨:chen 梦:meng 雨:yu 萱:xuan 涵:han 诗:shi 思:si "
    "彤:tong 嘉:jia 慧:hui 玲:ling 燕:yan 璐:lu 薇:wei 瑶:yao 晓:xiao 月:yue 蕾:lei 雯:wen 楠:nan "
    "婧:jing 菲:fei"
)
_GIVEN_MALE = _bank(
    "伟:wei 强:qiang 磊:lei 军:jun 洋:yang 勇:yong 杰:jie 涛:tao 明:ming 超:chao 刚:gang 平:ping "
    "辉:hui 鹏:peng 华:hua 飞:fei 宇:yu 浩:hao 俊:jun 博:bo 文:wen 斌:bin 凯:kai 峰:feng 晨:chen "
    "子:zi 轩:xuan 睿:rui 泽:ze 昊:hao 然:ran 志:zhi 建:jian 国:guo 海:hai 东:dong 亮:liang"
)
_ENGLISH_FEMALE = [
    "Emily",
    "Olivia",
    "Sophia",
    "Grace",
    "Chloe",
    "Emma",
    "Hannah",
    "Jessica",
    "Amy",
    "Lily",
    "Vivian",
    "Cindy",
    "Iris",
    "Fiona",
    "Sandy",
    "Yvonne",
    "Catherine",
    "Michelle",
    "Jennifer",
    "Sarah",
    "Angela",
    "Joanna",
    "Rachel",
    "Zoe",
    "Tiffany",
    "Crystal",
    "Coco",
    "Elaine",
    "Karen",
    "Lucy",
]
_ENGLISH_MALE = [
    "James",
    "Michael",
    "David",
    "Daniel",
    "Kevin",
    "Jason",
    "Eric",
    "Tony",
    "Peter",
    "William",
    "Alexander",
    "Ryan",
    "Andrew",
    "Leo",
    "Jack",
    "Henry",
    "Thomas",
    "Mark",
    "Vincent",
    "Frank",
    "Jonathan",
    "Patrick",
    "Oliver",
    "Simon",
    "Steven",
]
_ENGLISH_LAST = [
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Martin",
    "Anderson",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Müller",
    "Dubois",
    "Rossi",
    "Kim",
    "Park",
    "Tanaka",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Lin",
    "Huang",
    "Wong",
    "Lee",
    "Chan",
    "Cheung",
    "Ho",
    "Ng",
]

_LOOKALIKE = dict(
    pair.split(":")
    for pair in [
        "伟:玮",
        "丽:莉",
        "静:婧",
        "婧:静",
        "芳:方",
        "娜:那",
        "敏:民",
        "婷:庭",
        "杰:洁",
        "磊:垒",
        "军:君",
        "洋:阳",
        "勇:永",
        "艳:燕",
        "燕:艳",
        "霞:侠",
        "玲:琳",
        "琳:玲",
        "明:铭",
        "华:桦",
        "飞:菲",
        "菲:飞",
        "佳:嘉",
        "嘉:佳",
        "欣:新",
        "怡:仪",
        "晨:辰",
        "雪:雷",
        "涛:滔",
        "辉:晖",
        "鹏:朋",
        "宇:雨",
        "雨:宇",
        "浩:皓",
        "俊:骏",
        "博:搏",
        "文:雯",
        "雯:文",
        "斌:彬",
        "凯:恺",
        "峰:锋",
        "轩:萱",
        "萱:轩",
        "睿:瑞",
        "泽:择",
        "昊:浩",
        "然:燃",
        "志:智",
        "建:健",
        "东:冬",
        "亮:谅",
        "娟:鹃",
        "颖:影",
        "倩:茜",
        "悦:越",
        "梦:孟",
        "涵:晗",
        "诗:师",
        "思:丝",
        "彤:桐",
        "慧:惠",
        "璐:路",
        "薇:微",
        "瑶:遥",
        "晓:小",
        "月:悦",
        "蕾:雷",
        "楠:南",
        "强:墙",
        "刚:钢",
        "平:萍",
        "超:潮",
        "子:紫",
        "国:帼",
        "海:晦",
        "王:汪",
        "汪:王",
        "张:章",
        "李:理",
        "刘:留",
        "杨:扬",
        "黄:皇",
        "赵:照",
        "吴:伍",
        "周:舟",
        "徐:许",
        "许:徐",
        "林:琳",
        "胡:湖",
        "陈:程",
    ]
)
_QQ_SHARE = 0.35
_CN_DOMAINS = [
    "163.com",
    "126.com",
    "qq.com",
    "sina.com",
    "foxmail.com",
    "gmail.com",
    "outlook.com",
]
_CN_DOMAIN_WEIGHTS = [5, 3, 3, 1, 1, 1, 1]
_EN_DOMAINS = ["gmail.com", "outlook.com", "icloud.com", "hotmail.com", "yahoo.com", "qq.com"]
_EN_DOMAIN_WEIGHTS = [5, 3, 2, 2, 1, 1]


@dataclass(frozen=True)
class NameTable:
    """Names of ``n`` people: parts in script and in Latin letters (pinyin for Chinese names)."""

    family: list[str]
    given: list[str]
    family_latin: list[str]
    given_latin: list[str]
    english: BoolArray

    def display(self) -> list[str]:
        """Names as people write them: ``王芳`` or ``Emily Chen``."""
        return [
            f"{g} {f}" if en else f"{f}{g}"
            for f, g, en in zip(self.family, self.given, self.english.tolist(), strict=True)
        ]


def draw_names(rng: np.random.Generator, female: BoolArray, english: BoolArray) -> NameTable:
    """Chinese names (surname by frequency, one or two given characters) or English names."""
    n = len(female)
    surname = sample_index(rng, _SURNAMES[2], n).tolist()
    two_chars = (rng.random(n) < 0.7).tolist()
    first = rng.integers(0, 10_000, size=(n, 2)).tolist()
    en_first = rng.integers(0, 10_000, size=n).tolist()
    en_last = rng.integers(0, len(_ENGLISH_LAST), size=n).tolist()
    is_female, is_english = female.tolist(), english.tolist()
    family, given, family_latin, given_latin = [], [], [], []
    for i in range(n):
        if is_english[i]:
            bank = _ENGLISH_FEMALE if is_female[i] else _ENGLISH_MALE
            last = _ENGLISH_LAST[en_last[i]]
            family.append(last)
            given.append(bank[en_first[i] % len(bank)])
            family_latin.append(_ascii(last))
            given_latin.append(given[-1])
            continue
        hanzi, latin, _ = _GIVEN_FEMALE if is_female[i] else _GIVEN_MALE
        picks = [first[i][0] % len(hanzi)] + ([first[i][1] % len(hanzi)] if two_chars[i] else [])
        family.append(_SURNAMES[0][surname[i]])
        family_latin.append(_SURNAMES[1][surname[i]])
        given.append("".join(hanzi[k] for k in picks))
        given_latin.append("".join(latin[k] for k in picks))
    return NameTable(family, given, family_latin, given_latin, english.copy())


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ord(ch) < 128)


def draw_emails(
    rng: np.random.Generator, names: NameTable, birth_years: IntArray, taken: set[str]
) -> list[str]:
    """One address per person, derived from the name like people really do; unique and not taken."""
    n = len(names.family)
    style = rng.integers(0, 4, size=n).tolist()
    qq = (rng.random(n) < _QQ_SHARE).tolist()
    suffix = rng.integers(1, 1000, size=n).tolist()
    cn_domain = sample_index(rng, _CN_DOMAIN_WEIGHTS, n).tolist()
    en_domain = sample_index(rng, _EN_DOMAIN_WEIGHTS, n).tolist()
    qq_number = rng.integers(100_000, 3_999_999_999, size=n).tolist()
    years = birth_years.tolist()
    english = names.english.tolist()
    out = []
    for i in range(n):
        f, g = names.family_latin[i].lower(), names.given_latin[i].lower()
        yy = f"{years[i] % 100:02d}"
        if english[i]:
            local = (f"{g}.{f}", f"{g}{f}", f"{g}_{f}{yy}", f"{g[0]}{f}{suffix[i]}")[style[i]]
            out.append(f"{local}@{_EN_DOMAINS[en_domain[i]]}")
        elif qq[i]:
            out.append(f"{qq_number[i]}@qq.com")
        else:
            styles = (f"{f}{g}", f"{g}{f}{yy}", f"{f}.{g}{suffix[i]}", f"{g[0]}{f}{years[i]}")
            out.append(f"{styles[style[i]]}@{_CN_DOMAINS[cn_domain[i]]}")
    return _make_unique(rng, out, taken)


def _make_unique(rng: np.random.Generator, emails: list[str], taken: set[str]) -> list[str]:
    seen = set(taken)
    for i, email in enumerate(emails):
        while email in seen:
            local, domain = email.split("@")
            email = f"{local}{rng.integers(10, 10_000)}@{domain}"
        seen.add(email)
        emails[i] = email
    return emails


def misspell(dice: random.Random, family: str, given: str, english: bool) -> str:
    """A plausible typing or hearing mistake in a name (look-alike character, swapped letters)."""
    if english:
        return f"{_swap_letters(dice, given)} {family}"
    chars = list(given)
    swappable = [k for k, ch in enumerate(chars) if ch in _LOOKALIKE]
    if swappable:
        k = swappable[dice.randrange(0, len(swappable))]
        chars[k] = _LOOKALIKE[chars[k]]
        return family + "".join(chars)
    if family in _LOOKALIKE:
        return _LOOKALIKE[family] + given
    return family + given + given[-1]


def _swap_letters(dice: random.Random, word: str) -> str:
    if len(word) < 4:
        return word + word[-1]
    k = dice.randrange(1, len(word) - 2)
    return word[:k] + word[k + 1] + word[k] + word[k + 2 :]


def width_variant(family: str, given: str, english: bool) -> tuple[str, str]:
    """The same name typed with full-width characters or spaces; returns (text, kind)."""
    if english:
        full = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in given)
        return f"{full}\u3000{family}", "fullwidth_latin"
    return f"{family}\u3000{given}", "ideographic_space"
