"""One segment of a reply: its Markdown drawn as lines by one widget, streamed, finished once, parkable."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from flashchat.render.markdown_lines import Line, MarkdownLines, MarkdownStyles
from flashchat.tui.lines_ahead import LINES_AHEAD
from flashchat.tui.reply_styles import reply_styles

# Text is rendered at most 10 times a second while it streams: each flush re-parses the segment (about a
# millisecond for its 2 KB), renders its last block again and, when the segment grew a line, lays the screen
# out again. Gathering text this long keeps the CPU a reply costs low; the first text goes out at once.
FLUSH_INTERVAL = 0.1


class ReplySegment(Widget):
    """A slice of a reply (see `flashchat.tui.segments`) rendered as Markdown; also used for thoughts.

    The segment is one widget whatever its Markdown holds: `render.markdown_lines` turns the text into lines
    (kept per top-level block, so a flush renders only the block that grew), and Textual asks for the lines
    on screen. Before, each paragraph, list item and bullet was a widget of its own, and every flush laid out
    and painted all of them again (bench/tui.py, issue 15).

    While `streaming`, an open code fence is plain text; `finish` ends the stream, and after that the segment
    is never written to again. A finished segment far from the viewport is *parked*: it keeps its text and its
    height and drops its rendered lines, so a long chat costs about its text.

    While it streams, the segment grows in steps of rows (`reserve_step`), not a line at a time: it holds blank
    rows below its text, and a flush that fills them redraws only its changed lines. A line that changes the
    segment's height makes Textual lay out and repaint the whole screen (and, pinned to the bottom, scroll
    it), which was most of the CPU a streamed reply cost and what a keystroke waited for (bench/tui.py,
    issue 15). Once finished, the segment is exactly as tall as its text.

    Links are drawn as text and never opened by a click: model output should not launch a browser. The text
    must already be terminal-safe (`render.safe_text`).
    """

    DEFAULT_CSS = """
    ReplySegment {
        height: auto;
        padding: 0 2;
    }
    """

    def __init__(self, text: str = "", *, streaming: bool = False, reserved_rows: int = 0) -> None:
        super().__init__()
        self.text = text
        self.streaming = streaming
        # The height while streaming: the text's lines and blank rows below them (a step at a time).
        self._reserved = reserved_rows if streaming else 0
        self.parked = False
        self._shown = text  # what is drawn: written text waits for the next flush
        self._flush_timer: Timer | None = None
        self._renderer: MarkdownLines | None = None
        self._lines: list[Line] = []
        self._lines_key: tuple[str, int, bool] | None = None
        self._strips: dict[int, Strip] = {}
        self._first_changed = 0  # the first line the last render changed
        self._parked_height = 0
        self._drawn_with: tuple[MarkdownStyles, Style] | tuple[()] = ()  # what the kept lines were drawn with

    @property
    def source(self) -> str:
        """The Markdown on screen (the text written so far, up to the last flush)."""
        return self._shown

    # -- streaming

    async def write(self, text: str) -> None:
        if not text:
            return
        self.text += text
        if self._flush_timer is not None:
            return
        if not self._shown and self.is_mounted:
            # A segment's first text goes out at once (it is the reply's first token when this is the first
            # segment): gathering for FLUSH_INTERVAL pays off only once the text flows. Shown right here, not
            # from a `call_later`: that waited for the app's queue and, as the segment had just been mounted,
            # cost a layout of its own before the one that draws the text (bench/tui.py, first-token).
            self._flush()
        else:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL, self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        if self._shown != self.text:
            self._shown = self.text
            self._update_lines()

    async def finish(self, *, rerender: bool = True) -> None:
        """Stop streaming: the whole text is shown, a fence that never closed highlighted too.

        `rerender` is kept for the callers: only a fence is drawn differently once finished, and a segment
        that ended at a cut has no open fence (a cut is never inside one), so it costs nothing either way.
        """
        if not self.streaming:
            return
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._shown = self.text
        self.streaming = False
        self._reserved = 0
        self._update_lines()

    def _update_lines(self) -> None:
        """Redraw after the text or the streaming state changed: a layout only when the height changed."""
        width = self.size.width
        if not width or self.parked:
            self.refresh(layout=True)
            return
        drawn = len(self._lines) if self._lines_key is not None else -1
        lines = self._current_lines(width)
        if self.streaming and len(lines) > self._reserved:
            self._reserved = len(lines) + self.reserve_step()
        if self._height(len(lines)) != self.content_size.height:
            self.refresh(layout=True)
        elif (first := self._first_changed) < (changed_to := max(len(lines), drawn)):
            # The rows from the first changed line down, blank ones included (a block that grew shorter).
            self.refresh(Region(0, first, width, changed_to - first))

    def reserve_step(self) -> int:
        """Rows added at a time while streaming: a quarter of the screen, so a pinned view moves a few times a
        second at most, by a distance the eye can follow."""
        return max(3, self.screen.size.height // 4) if self.is_attached else 3

    @property
    def blank_rows(self) -> int:
        """The reserved rows below the text not yet filled (0 once finished)."""
        return max(0, self._reserved - len(self._lines)) if self.streaming and self._lines_key is not None else 0

    def _height(self, lines: int) -> int:
        return max(lines, self._reserved) if self.streaming else lines

    # -- parking

    def park(self) -> None:
        """Keep the height, drop the lines: a parked segment holds only its text (and costs no frame time)."""
        if self.parked or self.streaming:
            return
        self._parked_height = self.size.height
        self.parked = True
        self._forget_lines()
        # And Textual's cache of the lines it last painted (a full refresh empties it; off screen, nothing is
        # painted again): without this a parked segment kept every line it had shown while it streamed.
        self.refresh()
        # Its reply's container keeps the same cache of its own lines (the blank rows around and between its
        # segments, one Strip each with seven caches): 916 of the 5,400 Strips alive after 40 turns, all off
        # screen, and each walked by every full collection (tui/quiet_gc.py). The same full refresh empties it.
        if self.parent is not None:
            self.parent.refresh()

    def unpark(self) -> None:
        """Draw the text again (lines are rendered as they are asked for; the height is measured anew)."""
        if not self.parked:
            return
        self.parked = False
        self.refresh(layout=True)

    def _forget_lines(self) -> None:
        self._renderer = None
        self._lines, self._lines_key, self._strips = [], None, {}

    # -- drawing

    def _markdown_styles(self) -> MarkdownStyles:
        return reply_styles(self.app, self.background_colors[1])

    def _drawing_styles(self) -> tuple[MarkdownStyles, Style]:
        """The Markdown colours and the widget's own style, looked up once (both walk the DOM)."""
        if not self._drawn_with:
            self._drawn_with = (self._markdown_styles(), self.rich_style)
        return self._drawn_with

    def _current_lines(self, width: int) -> list[Line]:
        key = (self._shown, width, self.streaming)
        self._first_changed = len(self._lines)
        if key == self._lines_key:
            return self._lines
        styles = self._drawing_styles()[0]
        if self._renderer is None or self._renderer.styles is not styles:
            self._renderer = MarkdownLines(styles)
            self._strips = {}
        lines = self._renderer.render(self._shown, width, streaming=self.streaming)
        # Blocks that did not change come back as the same line objects: their strips are still good.
        first = 0
        for old, new in zip(self._lines, lines, strict=False):
            if old is not new:
                break
            first += 1
        self._first_changed = first
        self._strips = {y: strip for y, strip in self._strips.items() if y < first}
        self._lines, self._lines_key = lines, key
        return lines

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Called for every restyle (hover, focus within): only a new theme or new colours change the lines.
        if self.is_mounted and self._drawn_with != (drawn_with := (self._markdown_styles(), self.rich_style)):
            self._drawn_with = drawn_with
            self._forget_lines()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.parked:
            return self._parked_height
        return self._height(len(self._current_lines(width)))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self.parked or not width:
            return Strip.blank(width, self.rich_style)
        lines = self._current_lines(width)
        if y >= len(lines):
            return Strip.blank(width, self.rich_style)
        strip = self._strips.get(y)
        if strip is None:
            strip = Strip(lines[y], width).apply_style(self._drawing_styles()[1]).apply_offsets(0, y)
            self._strips[y] = strip
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(y)) is not None:
            strip = self._highlight(strip, span)
        return strip

    def _highlight(self, strip: Strip, span: tuple[int, int]) -> Strip:
        start, end = span
        end = strip.cell_length if end == -1 else min(end, strip.cell_length)
        if start >= end:
            return strip
        before, selected, after = strip.divide([start, end, strip.cell_length])
        style = self.screen.get_component_rich_style("screen--selection")
        # Over the line's own colours (a code block has its own background), not under them.
        selected = Strip(Segment.apply_style(selected, post_style=style), selected.cell_length)
        return Strip.join([before, selected, after])

    # -- lines rendered ahead (tui/lines_ahead.py)

    @classmethod
    def of_stored_text(cls, text: str) -> ReplySegment:
        """A finished segment of a stored reply. The conversation's window may have rendered its lines in the
        idle time before the step that mounts it (at the width and in the colours `drawing_width_and_styles`
        gave): it takes them, and that step only lays them out. Taken here, not on mount: its reply lays it out
        (and so renders it) before its own Mount."""
        segment = cls(text)
        segment._renderer = LINES_AHEAD.take(text)
        return segment

    def drawing_width_and_styles(self) -> tuple[int, MarkdownStyles] | None:
        """The width and the colours this segment renders its lines at; None before it is laid out."""
        width = self.size.width
        if not width or self.parked or not self.is_mounted:
            return None
        return width, self._drawing_styles()[0]

    # -- selection

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text under a mouse selection, as shown (bullets, numbers, wrapped lines)."""
        width = self.size.width
        if self.parked or not width:
            return None
        shown = "\n".join("".join(segment.text for segment in line).rstrip() for line in self._current_lines(width))
        return selection.extract(shown), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()
