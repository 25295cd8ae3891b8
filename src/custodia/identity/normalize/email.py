"""E-mail addresses: one comparable form per mailbox, and a reasonable (not RFC-complete) check.

Rules, in the order they are applied:

===================================  ===========================================================
Input                                Result
===================================  ===========================================================
``None``, ``""``, blanks             empty (no value, no reason)
full-width text                      NFKC first (``ａ＠ｂ．ｃｎ`` → ``a@b.cn``), then trimmed
whitespace or control characters     ``email.characters``
not exactly one ``@``                ``email.at_sign``
longer than 254 characters           ``email.length``
local part empty, over 64            ``email.local_part``; so is a leading or trailing dot,
characters or with a bad character   ``..``, or a character outside letters, digits and
                                     ``!#$%&'*+/=?^_`{|}~.-`` (quoted local parts are not taken)
domain not ``label.label…``          ``email.domain``: labels of 1-63 letters, digits or ``-``
                                     (not at either end), at least two labels, a top-level
                                     label of two or more characters that is not all digits
valid                                the whole address lower-cased (``casefold``)
``strip_plus_tag=True``              ``anna+news@x.cn`` → ``anna@x.cn`` (the tag is dropped
                                     only when something remains before the ``+``)
===================================  ===========================================================

Why lower-case the local part too: RFC 5321 lets a server treat it case-sensitively, but no
mainstream provider does, and most CDPs (Segment, mParticle) match case-insensitively; two
spellings of one mailbox are one person far more often than two people. Letters and digits
include non-ASCII ones, so internationalized addresses (``张伟@例子.中国``) pass.

Example::

    normalize_email("  Anna.Li@Example.COM ").value                       # 'anna.li@example.com'
    normalize_email("anna+news@x.cn", strip_plus_tag=True).value          # 'anna@x.cn'
    normalize_email("anna@@x.cn").reason                                  # 'email.at_sign'
"""

from __future__ import annotations

from custodia.identity.normalize._result import EMPTY, Normalized, clean_text, rejected

__all__ = ["normalize_email"]

_MAX_LENGTH = 254
_MAX_LOCAL = 64
_MAX_LABEL = 63
_LOCAL_SYMBOLS = frozenset("!#$%&'*+/=?^_`{|}~.-")


def normalize_email(raw: str | None, *, strip_plus_tag: bool = False) -> Normalized:
    """Lower-cased address, or the rule it breaks (table above)."""
    text = clean_text(raw)
    if not text:
        return EMPTY
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        return rejected("email.characters")
    if text.count("@") != 1:
        return rejected("email.at_sign")
    if len(text) > _MAX_LENGTH:
        return rejected("email.length")
    local, domain = text.casefold().split("@")
    if not _local_ok(local):
        return rejected("email.local_part")
    if not _domain_ok(domain):
        return rejected("email.domain")
    if strip_plus_tag and local.find("+") > 0:
        local = local[: local.find("+")]
    return Normalized(f"{local}@{domain}")


def _local_ok(local: str) -> bool:
    if not local or len(local) > _MAX_LOCAL:
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    return all(ch.isalnum() or ch in _LOCAL_SYMBOLS for ch in local)


def _domain_ok(domain: str) -> bool:
    labels = domain.split(".")
    if len(labels) < 2 or not all(_label_ok(label) for label in labels):
        return False
    top = labels[-1]
    return len(top) >= 2 and not top.isdigit()


def _label_ok(label: str) -> bool:
    if not label or len(label) > _MAX_LABEL:
        return False
    if label.startswith("-") or label.endswith("-"):
        return False
    return all(ch.isalnum() or ch == "-" for ch in label)
