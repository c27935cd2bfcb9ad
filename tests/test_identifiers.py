"""The one rule for comparing identifiers, and what an identifier may not hold."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.identifiers import (
    WIDTH_MAPPING,
    fold_identity,
    fold_identity_reference,
    look_alike,
    refused_characters,
    same_text,
)

# Text that exercises the rule: accents both ways, width forms, letters whose case
# mapping is special (final sigma, dotted I, the dz digraph, sharp s).
TRICKY = st.text(
    st.sampled_from(
        "aAeEiIsSzZ@.-_ \u00e9\u00c9\u0301\u0308\u00df\u1e9e\u03a3\u03c3\u03c2"
        "\u0130\u0131\u01c4\u01c5\u01c6\u00c5\u212b\u03a9\u2126\uff4a\uff2a\uff61\u3000"
        "\ufb01\u00b2"
    )
    | st.characters(),
    max_size=12,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("jose\u0301@example.com", "jos\u00e9@example.com", id="nfd-nfc"),
        pytest.param("JOS\u00c9@Example.COM", "jos\u00e9@example.com", id="case"),
        pytest.param("JOSE\u0301@example.com", "jos\u00e9@example.com", id="nfd-and-case"),
        pytest.param(
            "\uff4a\uff4f\uff53\u00e9@example.com", "jos\u00e9@example.com", id="fullwidth"
        ),
        pytest.param("\u212bsa", "\u00e5sa", id="angstrom-sign"),
        pytest.param("\u01c5ura", "\u01c6ura", id="titlecase-digraph"),
    ],
)
def test_names_that_differ_in_form_case_or_width_fold_alike(a: str, b: str) -> None:
    """RFC 8265 UsernameCaseMapped (section 3.3.2): width mapped, lower-cased, NFC."""
    assert fold_identity(a) == fold_identity(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("stra\u00dfe@example.com", "strasse@example.com", id="sharp-s"),
        pytest.param("\ufb01le", "file", id="ligature"),
        pytest.param("\u0430lice", "alice", id="cyrillic-a"),
        pytest.param("a\u200bb", "ab", id="zero-width-space"),
    ],
)
def test_names_that_only_look_alike_stay_apart(a: str, b: str) -> None:
    """Full case folding and compatibility forms are not the rule: ``ß`` is not ``ss``."""
    assert fold_identity(a) != fold_identity(b)


@given(TRICKY)
def test_the_fast_fold_is_the_reference_fold(text: str) -> None:
    """``fold_identity`` and the step-by-step reference agree on any text."""
    assert fold_identity(text) == fold_identity_reference(text)


@given(TRICKY)
def test_folding_ignores_the_form_the_text_came_in_and_is_idempotent(text: str) -> None:
    """A name in NFD, NFC or already folded folds to one text."""
    folded = fold_identity(text)
    assert fold_identity(unicodedata.normalize("NFD", text)) == folded
    assert fold_identity(unicodedata.normalize("NFC", text)) == folded
    assert fold_identity(folded) == folded


@given(st.text(st.characters(max_codepoint=127), max_size=12))
def test_ascii_in_lower_case_is_returned_without_a_copy(text: str) -> None:
    """The shared-string shortcut: nearly every key is its own folded form."""
    assert fold_identity(text) == text.lower()
    if text.islower():
        assert fold_identity(text) is text


def test_the_width_table_holds_every_fullwidth_and_halfwidth_code_point() -> None:
    """Every ``<wide>``/``<narrow>`` decomposition in Unicode is in the table (the
    table is built from two ranges only, for a quick import)."""
    found = {
        code
        for code in range(sys.maxunicode + 1)
        if unicodedata.decomposition(chr(code)).startswith(("<wide>", "<narrow>"))
    }
    assert found == set(WIDTH_MAPPING)


def test_same_text_is_equality_after_composition_only() -> None:
    """Composed and decomposed spellings are one text; a case change is not."""
    assert same_text("Jose\u0301", "Jos\u00e9")
    assert not same_text("jos\u00e9", "Jos\u00e9")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        pytest.param("ann\u200b@example.com", "U+200B (ZERO WIDTH SPACE)", id="zero-width"),
        pytest.param("ann\u200d", "U+200D (ZERO WIDTH JOINER)", id="joiner"),
        pytest.param("ann\x07", "U+0007 (a control character)", id="bell"),
        pytest.param("\u202eann", "U+202E (RIGHT-TO-LEFT OVERRIDE)", id="bidi-override"),
        pytest.param("ann\ufe0f", "U+FE0F (VARIATION SELECTOR-16)", id="variation-selector"),
        pytest.param("\u3164", "U+3164 (HANGUL FILLER)", id="hangul-filler"),
        pytest.param(" eng", "whitespace at its start or end", id="leading-space"),
        pytest.param("eng\u00a0", "whitespace at its start or end", id="trailing-no-break"),
        pytest.param("eng\t", "U+0009", id="trailing-tab"),
    ],
)
def test_invisible_characters_are_refused(text: str, why: str) -> None:
    """What shows as nothing, or moves the text, makes two names look like one."""
    refused = refused_characters(text)
    assert refused is not None
    assert why in refused


@pytest.mark.parametrize(
    "text",
    ["alice@example.com", "Jos\u00e9 Garc\u00eda", "\u0438\u0432\u0430\u043d", "a b", "日本"],
)
def test_visible_names_pass(text: str) -> None:
    """Letters of any script, and spaces inside a name, are fine."""
    assert refused_characters(text) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        pytest.param(
            "\uff4a\uff4f\uff53\u00e9@x.com", 'compares as "jos\u00e9@x.com"', id="fullwidth"
        ),
        pytest.param("\ufb01le@x.com", 'read as "file@x.com"', id="ligature"),
        pytest.param("jose\u0301@x.com", "decomposed", id="nfd"),
        pytest.param("\u0430lice@x.com", "Latin and Cyrillic", id="cyrillic-a"),
        pytest.param("p\u03bfst@x.com", "Latin and Greek", id="greek-omicron"),
    ],
)
def test_look_alike_forms_are_named(text: str, why: str) -> None:
    """Width, compatibility and decomposed forms, and mixed scripts, draw a warning."""
    found = look_alike(text)
    assert found is not None
    assert why in found


@pytest.mark.parametrize(
    "text",
    ["alice@example.com", "jos\u00e9@example.com", "\u0438\u0432\u0430\u043d@example.com"],
)
def test_plain_names_in_any_script_are_not_look_alikes(text: str) -> None:
    """One script per part of the address (a Cyrillic name at a Latin domain) is fine."""
    assert look_alike(text) is None
