"""The text of a code fence that is still streaming, drawn a visible line at a time."""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

TAB_SIZE = 8  # what the highlighter expands tabs to once the fence closes, so lines keep their width


def _expanded_lines(text: str) -> list[str]:
    return [line.expandtabs(TAB_SIZE) for line in text.split("\n")]


class StreamingCode(Widget):
    """Unhighlighted code that grows at its end, as an open fence does while a reply streams.

    A `Label` measures, wraps and renders every line of its text on each update: with the fence's whole code
    re-sent on every append, that made an append into a 300-line fence cost about 40 ms of layout and paint
    (bench/tui.py), a quarter of a long reply. This widget keeps the lines and their widest width, so an
    append only measures the lines that changed, and a frame renders only the lines on screen.

    The text must already be terminal-safe: it goes to the terminal as it is.
    """

    DEFAULT_CSS = """
    StreamingCode {
        width: auto;
        height: auto;
    }
    """

    def __init__(self, code: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.code = code
        self._lines = _expanded_lines(code)
        self._widths = [cell_len(line) for line in self._lines]
        self._widest = max(self._widths)

    def set_code(self, code: str) -> None:
        """Show `code`; when it extends what is shown, only the new part is measured."""
        if code == self.code:
            return
        if code.startswith(self.code):
            # The old last line may have grown: it is measured again, with every line after it.
            start = self.code.rfind("\n") + 1
            del self._lines[-1], self._widths[-1]
        else:
            start = 0
            self._lines, self._widths, self._widest = [], [], 0
        lines = _expanded_lines(code[start:])
        widths = [cell_len(line) for line in lines]
        self._lines += lines
        self._widths += widths
        self._widest = max(self._widest, *widths)
        self.code = code
        self.refresh(layout=True)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self._widest

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        style = self.rich_style
        if y >= len(self._lines):
            return Strip.blank(self.size.width, style)
        return Strip([Segment(self._lines[y], style)], self._widths[y])
