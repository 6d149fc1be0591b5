"""The render boundary over arbitrary strings and bytes (hypothesis): whatever a server or the model sends, no
C0/C1 control, ESC sequence, bidi control or invisible format character reaches the terminal; printable text
is unchanged; one-line output is bounded; and the whole pipeline (bytes off the wire, decoded as the clients
decode them, streamed in pieces) keeps those promises."""

from __future__ import annotations

import json
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from flashchat.render.safe_text import (
    NAME_CHARS,
    SafeTextStream,
    json_c1_safe,
    one_line,
    safe_block,
    stderr_line,
    terminal_safe,
)

# Format characters (category Cf) that may reach a terminal: the joiners emoji and Persian need, the soft
# hyphen, and the Arabic/Syriac marks that only make sense before a letter (they are visible in the text).
ALLOWED_FORMAT = {"\u00ad", "\u200c", "\u200d", "\u0600", "\u0601", "\u0602", "\u0603", "\u0604", "\u0605",
                  "\u06dd", "\u070f", "\u0890", "\u0891", "\u08e2", "\u110bd", "\u110cd"}  # fmt: skip
ALLOWED_FORMAT |= {chr(code) for code in range(0x13430, 0x13456)} | {chr(code) for code in range(0x1BCA0, 0x1BCA4)}
ALLOWED_FORMAT |= {chr(code) for code in range(0x1D173, 0x1D17B)}

ESCAPE_SEQUENCE_STARTS = ("\x1b", "\x9b", "\x9d", "\x90", "\x9e", "\x9f", "\x8d", "\x8e", "\x8f")
HOSTILE_PIECES = [
    "\x1b[2J", "\x1b]0;title\x07", "\x1b]52;c;QQ==\x07", "\x1b[6n", "\x1bP+q\x1b\\", "\x9b31m", "\x9d8;;x\x9c",
    "\r", "\r\n", "\u202e", "\u2066", "\u200b", "\ufeff", "\U000e0041", "\ud800", "\x85", "\u2028",
]  # fmt: skip

any_character = st.one_of(
    st.characters(codec=None),
    st.sampled_from([piece for piece in HOSTILE_PIECES if len(piece) == 1]),
)
hostile_text = st.lists(st.one_of(st.text(any_character, max_size=20), st.sampled_from(HOSTILE_PIECES))).map("".join)
# What a terminal shows as it is: every character Python calls printable, plus TAB and LF.
printable_text = st.text(st.characters(codec=None).filter(str.isprintable) | st.sampled_from("\t\n"), max_size=300)


def reaches_the_terminal_raw(text: str) -> list[str]:
    """Characters in `text` a terminal would act on or that hide text: every control but TAB and LF, every
    format character outside the short allowed list, every surrogate."""
    raw = {"Cc": "\t\n", "Cf": ALLOWED_FORMAT, "Cs": ""}
    return [c for c in text if unicodedata.category(c) in raw and c not in raw[unicodedata.category(c)]]


@given(hostile_text)
def test_no_control_escape_bidi_or_invisible_character_survives(text: str) -> None:
    for shown in (terminal_safe(text), one_line(text), safe_block(text), stderr_line(text)[:-1]):
        assert reaches_the_terminal_raw(shown) == []
        assert not any(start in shown for start in ESCAPE_SEQUENCE_STARTS)


@given(st.binary(max_size=400))
def test_bytes_off_the_wire_decoded_as_the_clients_do(data: bytes) -> None:
    """Error bodies are bytes; the clients decode them with "replace" (httpx) or keep surrogates (os-level)."""
    for text in (data.decode("utf-8", "replace"), data.decode("utf-8", "surrogateescape"), data.decode("latin-1")):
        shown = terminal_safe(text)
        assert reaches_the_terminal_raw(shown) == []
        shown.encode("utf-8")  # always writable to a UTF-8 terminal


@given(printable_text)
def test_printable_text_is_unchanged(text: str) -> None:
    assert terminal_safe(text) == text
    assert safe_block(text, limit=10_000) == text


@given(hostile_text)
def test_output_length_is_bounded(text: str) -> None:
    """Each character becomes at most a ⟨U+XXXXX⟩ of 10; one line is cut at its limit plus the note."""
    assert len(terminal_safe(text)) <= 10 * len(text)
    assert len(one_line(text, NAME_CHARS)) <= NAME_CHARS + len("… (999,999,999 more characters)")
    assert "\n" not in one_line(text)


@given(hostile_text, st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_streamed_in_any_pieces_is_the_same_as_whole(text: str, cuts: list[int]) -> None:
    stream = SafeTextStream()
    points = sorted({min(cut, len(text)) for cut in cuts})
    pieces = [text[start:end] for start, end in zip([0, *points], [*points, len(text)], strict=True)]
    assert "".join(stream.feed(piece) for piece in pieces) + stream.flush() == terminal_safe(text)


@settings(max_examples=200)
@given(hostile_text)
def test_json_exports_decode_to_the_same_strings_and_stay_inert(text: str) -> None:
    written = json_c1_safe(json.dumps({"text": text}, ensure_ascii=False))
    assert json.loads(written) == {"text": text}
    assert reaches_the_terminal_raw(written) == []


def test_each_invisible_character_is_shown_by_its_code_point() -> None:
    hidden = "\u200b\u2060\u2061\u2062\u2063\u2064\u206a\u206f\ufeff\ufff9\ufffb\u180e\U000e0001\U000e0041\U000e007f"
    assert terminal_safe(f"a{hidden}b") == "a" + "".join(f"⟨U+{ord(c):04X}⟩" for c in hidden) + "b"
    assert terminal_safe("👩\u200d👩\u200d👧 ‌فارسی\u200c") == "👩\u200d👩\u200d👧 ‌فارسی\u200c"  # joiners stay
