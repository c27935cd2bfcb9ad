"""How identifiers compare, and what an identifier may not contain.

An identifier is what names a person or a group: a userName, an email address, an
externalId, a group's displayName (and the previous names and references that stand
for them). Two identifiers are one identity when they *fold* to the same text
(docs/identity.md, "Names that look alike"). The rule is RFC 8265's
UsernameCaseMapped profile: fullwidth and halfwidth forms mapped to their ordinary
forms, then upper and title case mapped to lower case (Unicode's toLowerCase, which
is Python's ``str.lower``), then Unicode normalisation form C. So
``jose\\u0301@example.com`` (NFD, as macOS writes it), ``jos\\u00e9@example.com``
(NFC), ``JOSÉ@example.com`` and ``ｊｏｓé@example.com`` (fullwidth) are one person.

Not full case folding (``str.casefold``): it makes ``straße`` and ``strasse`` one
name, which they are not to SCIM servers (scim2-server holds both), and a file user
matched to someone else's account would update that account.

Other compatibility forms (ligatures, mathematical letters, superscripts) are not
folded (RFC 8265 refuses them instead): ``look_alike`` warns about them, as about
width forms and mixed scripts, and ``refused_characters`` says what no identifier
may hold at all.
"""

from __future__ import annotations

import re
import unicodedata


def _width_table() -> dict[int, str]:
    """Fullwidth and halfwidth code points -> their decomposition (RFC 8265 section
    3.3.2, width mapping). All of them are U+3000 or in U+FF00..U+FFEF (a test holds
    this for the whole of Unicode)."""
    table: dict[int, str] = {}
    for code in (0x3000, *range(0xFF00, 0xFFF0)):
        kind, _, mapped = unicodedata.decomposition(chr(code)).partition(" ")
        if kind in ("<wide>", "<narrow>"):
            table[code] = "".join(chr(int(part, 16)) for part in mapped.split())
    return table


WIDTH_MAPPING = _width_table()


def fold_identity_reference(text: str) -> str:
    """The folding rule as the module docstring states it, step by step."""
    narrow = text.translate(WIDTH_MAPPING)
    return unicodedata.normalize("NFC", narrow.lower())


def fold_identity(text: str) -> str:
    """The one rule for comparing identifiers (``fold_identity_reference``), fast.

    Nearly every identifier is ASCII, where the rule is ``lower()``; and most are in
    lower case already, so the text itself is returned and the indexes of a million
    users do not copy them all. Width forms are only looked for above U+3000. A
    property test holds this equal to the reference.
    """
    if text.isascii():
        return text if text.islower() else text.lower()
    if max(text) >= "\u3000" and _WIDTH_FORMS.search(text):
        text = text.translate(WIDTH_MAPPING)
    lower = text.lower()
    return lower if unicodedata.is_normalized("NFC", lower) else unicodedata.normalize("NFC", lower)


_WIDTH_FORMS = re.compile("[\u3000\uff00-\uffef]")


def same_text(a: str, b: str) -> bool:
    """Whether two strings are the same text: equal once both are composed (NFC).

    A name that differs from another only in how its accents are encoded is not a
    change to plan (it would show as ``"josé" -> "josé"``); a case change is.
    """
    return a == b or unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)


# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties) that ``isprintable``
# lets through: fillers, joiners and variation selectors that show as nothing. The
# other ignorables are format characters (Cf), refused by category.
_IGNORABLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0"
    "\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def refused_characters(text: str) -> str | None:
    """Why no identifier may be ``text``, or None: a character that shows as nothing
    or moves the text (control, zero-width, format, line separator), or whitespace at
    either end."""
    if not text.isprintable() or (not text.isascii() and _IGNORABLE.search(text)):
        # Not printable: one of the refused categories, or only a space other than
        # U+0020 (no-break, ideographic), which may stand inside a name.
        bad = next((c for c in text if _invisible(c)), None)
        if bad is not None:
            name = unicodedata.name(bad, "a control character")
            return f"holds U+{ord(bad):04X} ({name}), which shows as nothing or moves the text"
    if text[:1].isspace() or text[-1:].isspace():
        return "has whitespace at its start or end, which a directory may keep or trim"
    return None


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in _REFUSED_CATEGORIES or bool(_IGNORABLE.match(char))


def look_alike(text: str) -> str | None:
    """Why ``text`` may look like another identifier it is not, or None.

    Fullwidth forms (folded, but a directory may keep them apart), other
    compatibility forms (not folded), a decomposed spelling (folded; sent as
    written), and one label of an address mixing Latin, Cyrillic and Greek letters
    (``\\u0430lice``, whose first letter is Cyrillic).
    """
    if text.isascii():
        return None
    if not unicodedata.is_normalized("NFKC", text):
        if _WIDTH_FORMS.search(text):
            narrow = text.translate(WIDTH_MAPPING)
            return f'has fullwidth or halfwidth characters: it compares as "{narrow}"'
        composed = unicodedata.normalize("NFC", text)
        compatible = unicodedata.normalize("NFKC", composed)
        if compatible != composed:
            return f'has compatibility characters that read as "{compatible}" but are not it'
        return "is written decomposed (not Unicode NFC): it compares as its composed form"
    mixed = _mixed_label(text)
    if mixed:
        return f"mixes {' and '.join(mixed)} letters in one part, which look alike"
    return None


_SCRIPTS = (
    ("Latin", re.compile("[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")),
    ("Greek", re.compile("[\u0370-\u03ff\u1f00-\u1fff]")),
    ("Cyrillic", re.compile("[\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f]")),
)


def _mixed_label(text: str) -> list[str]:
    """The scripts of the first label (between ``@`` and ``.``) that mixes them."""
    for label in text.replace("@", ".").split("."):
        if not label.isascii():
            mixed = [name for name, letters in _SCRIPTS if letters.search(label)]
            if len(mixed) > 1:
                return mixed
    return []
