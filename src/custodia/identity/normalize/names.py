"""Person names: a display form that keeps Chinese as written, and a key that compares scripts.

:func:`normalize_name` rules:

===================================  ===========================================================
Input                                Result
===================================  ===========================================================
``None``, ``""``, blanks             empty (no value, no reason)
full-width letters, ideographic      NFKC (``Ａｎｎａ\\u3000Ｌｉ`` → ``Anna Li``)
space
runs of whitespace                   one space; none at either end
space between two Han characters     removed (``张\\u3000伟`` → ``张伟``)
``•``, ``・``, ``‧``, ``.``            between Han characters: the name separator ``·``
                                     (``阿卜杜拉•艾买提`` → ``阿卜杜拉·艾买提``)
a digit, ``@``, a control            ``name.characters`` (a phone number or an e-mail typed
character, or no letter at all       into the name box, ``---``)
over 100 characters                  ``name.length``
letter case                          kept as typed: it is a display form; comparisons use
                                     :func:`name_comparison_key`
===================================  ===========================================================

:func:`name_comparison_key` turns a normalized name into lower-case tokens (ASCII for Han and
Latin names), sorted and joined by one space, so that word order (``Wei Zhang`` / ``Zhang Wei``),
case and script do not matter:

- a Han run becomes two tokens, the family name and the given name, each in toneless pinyin
  with its syllables joined (``张小明`` → ``zhang``, ``xiaoming``; ``欧阳娜娜`` → ``ouyang``,
  ``nana``); compound family names come from a built-in list, polyphonic family names use their
  surname reading (``单`` → ``shan``, ``曾`` → ``zeng``); ``ü`` is written ``v`` (``吕`` → ``lv``);
- a Han run split by ``·`` (transliterated names) gives one token per part;
- a Latin word loses accents, case, and inner ``-``, ``'`` and ``.`` (``Xiao-Ming`` → ``xiaoming``,
  ``O'Brien`` → ``obrien``), so ``张小明`` and ``Xiao-Ming ZHANG`` share the key
  ``xiaoming zhang``. ``Xiao Ming Zhang`` (given name split in two) gives three tokens and does
  not share it; the probabilistic matcher's fuzzy comparison still scores it as close.

Example::

    normalize_name("  张\\u3000伟 ").value               # '张伟'
    name_comparison_key("张伟") == name_comparison_key("Wei ZHANG")   # True, both 'wei zhang'
"""

from __future__ import annotations

import re
import unicodedata

from custodia.identity.normalize._result import EMPTY, Normalized, clean_text, rejected

__all__ = ["is_han", "name_comparison_key", "normalize_name"]

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_HAN_SPACE = re.compile(f"(?<=[{_HAN}]) (?=[{_HAN}])")
_HAN_DOT = re.compile(f"(?<=[{_HAN}])\\s*[•・‧.．·]\\s*(?=[{_HAN}])")
_HAN_RUN = re.compile(f"[{_HAN}·]+")
_HAN_CHAR = re.compile(f"[{_HAN}]")
_WORD_JOINERS = str.maketrans("", "", "-'’.")
_MAX_LENGTH = 100

_COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
        "呼延",
        "司空",
        "闻人",
        "申屠",
        "太史",
        "澹台",
        "公冶",
        "宗政",
        "濮阳",
        "淳于",
        "单于",
        "赫连",
        "钟离",
        "万俟",
    ]
)
_SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "查": "zha", "朴": "piao",
    "乐": "yue", "覃": "qin", "盖": "ge", "繁": "po", "缪": "miao", "尉": "yu", "翟": "zhai",
    "召": "shao", "种": "chong", "秘": "bi", "冼": "xian",
    "万俟": "moqi", "单于": "chanyu", "尉迟": "yuchi",
}  # fmt: skip


def is_han(text: str) -> bool:
    """True when ``text`` holds at least one Han character."""
    return _HAN_CHAR.search(text) is not None


def normalize_name(raw: str | None) -> Normalized:
    """Display form of a person's name, or the rule it breaks (table above)."""
    text = " ".join(clean_text(raw).split())
    if not text:
        return EMPTY
    if len(text) > _MAX_LENGTH:
        return rejected("name.length")
    if not _characters_ok(text):
        return rejected("name.characters")
    if is_han(text):
        text = _HAN_DOT.sub("·", _HAN_SPACE.sub("", text))
    return Normalized(text)


def name_comparison_key(normalized_name: str) -> str:
    """Sorted lower-case ASCII tokens of a name: pinyin for Han, plain letters for the rest."""
    tokens: list[str] = []
    position = 0
    for run in _HAN_RUN.finditer(normalized_name):
        tokens.extend(_latin_tokens(normalized_name[position : run.start()]))
        tokens.extend(_han_tokens(run.group()))
        position = run.end()
    tokens.extend(_latin_tokens(normalized_name[position:]))
    return " ".join(sorted(t for t in tokens if t))


def _characters_ok(text: str) -> bool:
    if not any(ch.isalpha() for ch in text):
        return False
    return not any(ch.isdigit() or ch == "@" or not ch.isprintable() for ch in text)


def _latin_tokens(text: str) -> list[str]:
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    return [word.translate(_WORD_JOINERS).casefold() for word in plain.split()]


def _han_tokens(run: str) -> list[str]:
    parts = [p for p in run.split("·") if p]
    if len(parts) > 1:
        return [_pinyin(p) for p in parts]
    if not parts:
        return []
    name = parts[0]
    cut = 2 if len(name) > 2 and name[:2] in _COMPOUND_SURNAMES else 1
    family, given = name[:cut], name[cut:]
    return [_SURNAME_READINGS.get(family) or _pinyin(family), _pinyin(given)]


def _pinyin(text: str) -> str:
    from pypinyin import Style, lazy_pinyin  # 0.3 s to import: only when a Han name is read

    return "".join(lazy_pinyin(text, style=Style.NORMAL)).casefold()
