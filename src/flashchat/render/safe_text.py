"""Make model output safe to show on a terminal.

Model output is text. Escape and control sequences in it (an OSC 52 clipboard write, ESC[2J, a bare CR
that overwrites a line) must be shown as visible symbols, never interpreted by the terminal.
"""

from __future__ import annotations

import re

# C0 controls except TAB and LF, DEL, and the C1 range (U+0080-U+009F: 8-bit CSI/OSC introducers).
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match[0])
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "control pictures": ESC becomes ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\\x{code:02x}"


def terminal_safe(text: str) -> str:
    """`text` with every control character replaced by a visible stand-in (CRLF becomes LF)."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_visible, text.replace("\r\n", "\n"))


def json_c1_safe(json_text: str) -> str:
    """JSON escapes C0 controls itself but not DEL or C1; escape those too so a terminal never acts on them."""
    return re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m[0]):04x}", json_text)


class SafeTextStream:
    """`terminal_safe` for text that arrives in pieces.

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
