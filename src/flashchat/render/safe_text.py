"""Make untrusted text safe to show on a terminal.

Model output and every string a server sends are text. Escape and control sequences in them (an OSC 52
clipboard write, ESC[2J, a bare CR that overwrites a line) must be shown as visible symbols, never interpreted
by the terminal; bidi controls (which can make `abc` display as `cba`, the "Trojan Source" trick) are shown
too, so what is on screen is what was sent.

What becomes what:
- C0 controls except TAB and LF: the Unicode "control pictures" (ESC is ␛, BEL ␇, a bare CR ␍); DEL is ␡.
  CRLF is a plain newline.
- C1 controls (U+0080-U+009F, the 8-bit CSI and OSC introducers): `\\x9b`.
- Bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), invisible format characters that
  hide or smuggle text (zero-width space U+200B, word joiner and invisible operators U+2060-U+2064, the
  deprecated format controls U+206A-U+206F, BOM U+FEFF, interlinear annotation U+FFF9-U+FFFB, U+180E, and
  the tag characters U+E0000-U+E007F, which carry "ASCII smuggling") and lone surrogates (which no terminal
  can be sent: they cannot be encoded): `⟨U+202E⟩`.
Everything else, including CJK, emoji (with their zero-width joiners), accents and box drawing, is unchanged.

Three shapes of text:
- `terminal_safe` (and `SafeTextStream` for streamed pieces): multi-line bodies, such as the model's reply,
  which is never cut;
- `one_line`: a server string shown in a line (an error message, a model name, a title, a source): newlines
  folded to spaces and the length bounded, with a note of how much was left out;
- `safe_block`: multi-line untrusted text that is not the reply (an error body): bounded the same way.
"""

from __future__ import annotations

import re

# How much of a one-line server string is shown by default: an error message or notice, and a name (a model,
# a title, a source). Enough for any real message; a 5 MB HTML error page is not a message.
MESSAGE_CHARS = 500
NAME_CHARS = 120
# A multi-line body that is not the reply (an error page, a tool's error text).
BLOCK_CHARS = 4_000

# Bidi controls, and the invisible format characters that can hide text (ZWJ and ZWNJ stay: emoji and
# Persian need them).
_BIDI = (
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u180e\u200b\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f"
)
# C0 controls except TAB and LF, DEL, the C1 range, bidi and invisible format controls, and lone surrogates.
_UNSAFE = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
# What `one_line` folds to a space: a run of whitespace that holds a line break (including the breaks that
# are not controls, U+2028 and U+2029, which some renderers honour), or a tab.
_LINE_BREAKS = re.compile(r"[ \t]*[\n\u2028\u2029][\s\u2028\u2029]*|\t")


def _visible(match: re.Match[str]) -> str:
    code = ord(match[0])
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "control pictures": ESC becomes ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return f"⟨U+{code:04X}⟩"


def terminal_safe(text: str) -> str:
    """`text` with every control character replaced by a visible stand-in (CRLF becomes LF)."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_visible, text.replace("\r\n", "\n"))


def _cut(text: str, limit: int, separator: str) -> str:
    if len(text) <= limit:
        return text
    left_out = len(text) - limit
    noun = "character" if left_out == 1 else "characters"
    return f"{text[:limit].rstrip()}{separator}… ({left_out:,} more {noun})"


def one_line(text: object, limit: int = MESSAGE_CHARS) -> str:
    """A server string for one line of a terminal: terminal-safe, line breaks and tabs as single spaces, and
    at most `limit` characters of it, then `… (N more characters)`. Never contains a line break."""
    safe = terminal_safe(str(text))
    folded = _LINE_BREAKS.sub(" ", safe).strip()
    return _cut(folded, max(1, limit), "")


def stderr_line(text: str) -> str:
    """A message for stderr, as the command line writes it: `flashchat: ` and one safe line, with its newline."""
    return f"flashchat: {one_line(text, limit=4 * MESSAGE_CHARS)}\n"


def safe_block(text: str, limit: int = BLOCK_CHARS) -> str:
    """Multi-line untrusted text that is not the model's reply: terminal-safe, and at most `limit` characters,
    then a line `… (N more characters)`. (The reply itself goes through `terminal_safe`, never cut.)"""
    return _cut(terminal_safe(text), max(1, limit), "\n")


# What JSON (json.dumps, ensure_ascii=False) leaves raw that a terminal would act on: DEL, C1, bidi controls,
# and lone surrogates, which would make writing the JSON fail.
_JSON_UNSAFE = re.compile(rf"[\x7f-\x9f{_BIDI}\ud800-\udfff]")


def json_c1_safe(json_text: str) -> str:
    """JSON escapes C0 controls itself but not DEL, C1, bidi controls or lone surrogates; escape those too
    (as `\\uXXXX`, so the JSON still decodes to exactly the same strings)."""
    return _JSON_UNSAFE.sub(_json_escape, json_text)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON's \\u takes four digits: a code point past U+FFFF is a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


class SafeTextStream:
    """`terminal_safe` for text that arrives in pieces: the pieces' outputs, then `flush()`, add up to
    `terminal_safe` of the whole text, however it was cut.

    A CR at the end of one piece may be the first half of a CRLF split across two chunks; it is held back
    so the pair still becomes a plain newline instead of a visible ␍.
    """

    def __init__(self) -> None:
        self._pending_cr = False

    def feed(self, text: str) -> str:
        if self._pending_cr:
            text = "\r" + text
            self._pending_cr = False
        if text.endswith("\r"):
            text = text[:-1]
            self._pending_cr = True
        return terminal_safe(text)

    def flush(self) -> str:
        pending, self._pending_cr = self._pending_cr, False
        return terminal_safe("\r") if pending else ""
