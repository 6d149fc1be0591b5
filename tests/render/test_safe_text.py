"""The sanitiser every string passes on its way to a terminal: what it changes, what it never changes, and
properties over arbitrary strings (hypothesis)."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from flashchat.render.safe_text import (
    MESSAGE_CHARS,
    SafeTextStream,
    json_c1_safe,
    one_line,
    safe_block,
    terminal_safe,
)

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# Invisible format characters shown as ⟨U+XXXX⟩ too (tests/security/test_sanitiser_properties.py has them all).
HIDDEN = "\u180e\u200b\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f\ufeff\ufff9\ufffa\ufffb"
TAGS = [chr(code) for code in range(0xE0000, 0xE0080)]
# Anything a terminal acts on, or that cannot be written to it: C0 except TAB and LF, ESC, DEL, C1, bidi
# controls, lone surrogates.
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
LINE_BREAKS = re.compile(r"[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# The note one_line adds, at its longest for the strings tested here.
NOTE_CHARS = len("… (999,999,999 more characters)")

# Every code point, surrogates included, with the troublesome ones drawn often.
any_character = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    st.sampled_from("\x1b\r\n\t\x07\x00\x7f\x9b\x9d\x85\u2028\u2029 " + BIDI_CONTROLS),
)
any_text = st.text(any_character, max_size=200)
# What must come through untouched: every character that is not a control, a bidi control or a surrogate.
printable_text = st.text(
    st.characters(codec=None, exclude_categories=("Cc", "Cs"), exclude_characters=[*BIDI_CONTROLS, *HIDDEN, *TAGS])
    | st.just("\t"),
    max_size=200,
)


@given(any_text)
def test_nothing_a_terminal_acts_on_survives(text: str) -> None:
    assert not FORBIDDEN.search(terminal_safe(text))
    assert not FORBIDDEN.search(safe_block(text))
    assert not FORBIDDEN.search(one_line(text))


@given(printable_text.map(lambda text: text + "\n" + text))
def test_printable_text_is_unchanged(text: str) -> None:
    assert terminal_safe(text) == text


@given(any_text, st.integers(min_value=1, max_value=300))
def test_one_line_has_no_line_break_and_a_bounded_length(text: str, limit: int) -> None:
    line = one_line(text, limit)
    assert not LINE_BREAKS.search(line)
    assert len(line) <= limit + NOTE_CHARS


@given(any_text, st.integers(min_value=1, max_value=300))
def test_safe_block_is_bounded(text: str, limit: int) -> None:
    assert len(safe_block(text, limit)) <= limit + 1 + NOTE_CHARS


@given(
    st.text(
        st.characters(
            codec=None, exclude_categories=("Cc", "Cs", "Z"), exclude_characters=[*BIDI_CONTROLS, *HIDDEN, *TAGS]
        )
    )
)
def test_one_line_keeps_a_short_printable_line_as_it_is(text: str) -> None:
    assert one_line(text, limit=max(1, len(text))) == text


# Text with many CRs and LFs, so that chunk boundaries often fall between the two halves of a CRLF.
crlf_heavy_text = st.lists(st.one_of(any_character, st.sampled_from(["\r", "\n", "\r\n"])), max_size=120).map("".join)


@given(st.data(), crlf_heavy_text)
def test_streamed_pieces_add_up_to_the_whole(data: st.DataObject, text: str) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=len(text)), max_size=12)))
    pieces = [text[start:end] for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    stream = SafeTextStream()
    assert "".join(stream.feed(piece) for piece in pieces) + stream.flush() == terminal_safe(text)


@given(any_text)
def test_json_stays_lossless_and_inert(text: str) -> None:
    encoded = json_c1_safe(json.dumps({"text": text}, ensure_ascii=False))
    assert not FORBIDDEN.search(encoded)
    assert json.loads(encoded) == {"text": text}


def test_what_each_control_becomes() -> None:
    assert terminal_safe("\x1b]52;c;ZXZpbA==\x07") == "␛]52;c;ZXZpbA==␇"
    assert terminal_safe("a\r\nb\rc\x7f\x9b") == "a\nb␍c␡\\x9b"
    # Bidi controls show as their code point, so `admin\u202e` cannot display as something else.
    assert terminal_safe("user\u202enimda\u2066x\u2069") == "user⟨U+202E⟩nimda⟨U+2066⟩x⟨U+2069⟩"
    assert terminal_safe("\u200e\u200f\u061c") == "⟨U+200E⟩⟨U+200F⟩⟨U+061C⟩"
    # A lone surrogate (JSON can carry one: "\ud800") cannot even be encoded for the terminal.
    assert terminal_safe("a\ud800b") == "a⟨U+D800⟩b"


def test_normal_unicode_is_untouched() -> None:
    text = "日本語 한국어 ünïcödé ñ 🎉 👩‍👩‍👧 🇯🇵 ┌─┬─┐ │ └─┴─┘ → ≠ ∑ \u200d \u200c x\u0301 עברית العربية"
    assert terminal_safe(text) == text
    assert one_line(text) == text


def test_one_line_folds_breaks_and_says_how_much_was_cut() -> None:
    assert one_line("  Bad gateway\r\n\r\n  <html>\n\t<body>\x1b[2J  ") == "Bad gateway <html> <body>␛[2J"
    assert one_line("a\u2028b\u2029c") == "a b c"
    huge = "x" * (MESSAGE_CHARS + 4_812_003)
    assert one_line(huge) == "x" * MESSAGE_CHARS + "… (4,812,003 more characters)"
    assert one_line("models/gemini-3.5-flash-but-very-long", limit=15) == "models/gemini-3… (22 more characters)"
    assert one_line("abcd", limit=3) == "abc… (1 more character)"


def test_safe_block_keeps_lines_and_notes_the_cut_on_a_line_of_its_own() -> None:
    assert safe_block("line 1\nline 2\x1b[31m") == "line 1\nline 2␛[31m"
    assert safe_block("a\n" * 10, limit=6) == "a\na\na\n… (14 more characters)"
