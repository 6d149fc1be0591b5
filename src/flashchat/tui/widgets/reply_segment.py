"""One segment of a reply: a Markdown widget that streams, finishes once, then keeps only its rendered lines."""

from __future__ import annotations

from textual.geometry import Region
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock, MarkdownStream

from flashchat.tui.widgets.code_fence import DeferredFence
from flashchat.tui.widgets.streamed_list import StreamedBulletList, StreamedOrderedList

# Text is handed to the MarkdownStream at most 10 times a second. Every append re-parses the last block and
# costs a layout and a repaint of the whole scrolling view (10-25 ms in a long reply, about 30 widgets laid out
# and painted), so appending more often leaves no time for key presses: measured at 400 tokens/s
# (bench/tui.py), keystroke echo p95 was 250 ms at 1/60 s, ~58 ms at 1/20 s and ~46 ms at 1/10 s.
FLUSH_INTERVAL = 0.1


def rendered_lines(widget: Widget) -> list[Strip]:
    """`widget` and everything in it as the screen would draw it, one strip per row (meta dropped).

    Textual's own compositor does the drawing, with the widget as its root: the lines are exactly what the
    screen showed, borders, padding, colours and line filters included.
    """
    from textual._compositor import Compositor  # private: see the Textual cap in pyproject.toml

    compositor = Compositor()
    compositor.reflow(widget, widget.outer_size)
    return [strip.discard_meta().simplify() for strip in compositor.render_strips()]


class ReplySegment(Markdown):
    """A slice of a reply (see `flashchat.tui.segments`) rendered as Markdown; also used for thoughts.

    While streaming, text is gathered for `FLUSH_INTERVAL` and then goes through Textual's
    `MarkdownStream`, which re-parses only the last block and coalesces writes when appends fall behind;
    `streaming` tells `DeferredFence` to leave an open fence unhighlighted. `finish` ends the stream; after
    that the segment is never written to again.

    A finished segment is *frozen*: once its blocks are laid out, it keeps the lines they drew and unmounts
    them, so it is one widget with a fixed height whose frames are a list lookup. Textual lays out, styles
    and paints every mounted widget on each append of a streaming reply (a 20,000-token reply was ~90
    widgets per layout, most of them finished blocks), so only the open segment still costs anything.
    The lines are drawn again (the blocks mounted, drawn, unmounted) when the width or the theme changes.

    A frozen segment far from the viewport is *parked*: it drops its lines too and keeps only its text and
    height, and is drawn again when the user scrolls near it. Links are not opened by a click: model output
    should not launch a browser.
    """

    BLOCKS = {
        **Markdown.BLOCKS,
        "fence": DeferredFence,
        "code_block": DeferredFence,
        "bullet_list_open": StreamedBulletList,
        "ordered_list_open": StreamedOrderedList,
    }

    def __init__(self, text: str = "", *, streaming: bool = False) -> None:
        super().__init__(None if streaming else text, open_links=False)
        self.text = text
        self.streaming = streaming
        self.parked = False
        self._restoring = False  # blocks being mounted again; the held height stays until they are drawn
        self._lines: list[Strip] | None = None  # what the blocks drew, while frozen
        self._drawn_for: tuple[object, ...] = ()  # the width and theme the lines were drawn for
        self._stream: MarkdownStream | None = None
        self._pending: list[str] = []
        self._flush_timer: Timer | None = None

    @property
    def frozen(self) -> bool:
        return self._lines is not None

    def on_mount(self) -> None:
        if not self.streaming:
            self._freeze_after_refresh()

    async def write(self, text: str) -> None:
        if not text:
            return
        self.text += text
        self._pending.append(text)
        if self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL, self._flush)

    async def _flush(self) -> None:
        self._flush_timer = None
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        if self._stream is None:
            self._stream = self.get_stream(self)
        await self._stream.write(text)

    async def finish(self, *, rerender: bool = True) -> None:
        """Stop streaming and, with `rerender`, render the whole text once more with every fence highlighted.

        The reply's last segment is re-rendered; a segment that ended at a cut is not, as its blocks are
        already final (a cut is never inside a fence), which saves re-mounting every block of a long reply.
        """
        if not self.streaming:
            return
        self.streaming = False
        if self._flush_timer is not None:
            self._flush_timer.stop()
        await self._flush()
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if rerender:
            await self.update(self.text)
        self._freeze_after_refresh()

    # -- frozen lines

    def _drawing_key(self) -> tuple[object, ...]:
        app = self.app
        return (self.outer_size.width, app.theme, app.ansi_color)

    def _freeze_after_refresh(self) -> None:
        self.call_after_refresh(self._freeze)

    def _freeze(self) -> None:
        """Keep the lines the laid-out blocks drew, then unmount the blocks."""
        if self.streaming or self.parked or self.frozen or self._restoring or not self.is_mounted:
            return
        blocks = list(self.query_children(MarkdownBlock))
        width, height = self.outer_size
        if not width or not height or not self.display or not self.screen.is_active:
            return  # not drawn yet (hidden, or under another screen): stays live, as before
        if any(not block.outer_size.width for block in blocks):
            self._freeze_after_refresh()  # mounted but not laid out yet
            return
        self._lines = rendered_lines(self)
        self._drawn_for = self._drawing_key()
        self.styles.height = height
        self._remove_blocks(blocks)

    def drawn_lines(self) -> list[Strip]:
        """The lines this segment shows: the kept ones when frozen, else its blocks drawn now."""
        return list(self._lines) if self._lines is not None else rendered_lines(self)

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = self._lines
        if lines is None:
            if self.parked:
                return [Strip.blank(crop.width, self.rich_style)] * crop.height
            return super().render_lines(crop)
        blank = Strip.blank(crop.width, self.rich_style)
        return [lines[y].crop(crop.x, crop.right) if y < len(lines) else blank for y in range(crop.y, crop.bottom)]

    def on_resize(self) -> None:
        if self.frozen and self._drawn_for[:1] != (self.outer_size.width,):
            self._draw_again()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.frozen and self.is_mounted and self._drawn_for[1:] != self._drawing_key()[1:]:
            self._draw_again()  # the theme changed: the kept lines have the old colours

    def _draw_again(self) -> None:
        """Mount the blocks again (at the held height, so nothing jumps) and freeze what they draw."""
        if self._restoring:
            return
        self._lines = None
        self._restoring = True

        async def restore() -> None:
            try:
                await self.update(self.text)
            finally:
                self._restoring = False
            if self.parked:
                return
            self.styles.height = "auto"
            self._freeze_after_refresh()

        self.call_next(restore)

    # -- parking

    def park(self) -> None:
        """Keep the height, drop the lines (and blocks): a parked segment holds only its text.

        A 20,000-token reply is about 800 block widgets, with their styles and render caches: holding them
        all took the app from 49 to 144 MB for that one reply (bench/tui.py, pty run).
        """
        if self.parked or self.streaming or self._restoring:
            return
        self.styles.height = self.outer_size.height
        self.parked = True
        self._lines = None
        if blocks := list(self.query_children(MarkdownBlock)):
            self._remove_blocks(blocks)

    def _remove_blocks(self, blocks: list[MarkdownBlock]) -> None:
        removal = self.remove_children(blocks)

        async def forget_removed_blocks() -> None:
            # Textual's NodeList caches its displayed children until someone reads them again, and nothing
            # reads a frozen or parked segment's: without this read the removed blocks, render caches and all,
            # stayed alive (about 25 per reply; bench/tui.py --only long-session).
            await removal
            _ = self._nodes.displayed
            # And the arrangement cached for the last layout, whose placements still hold the removed blocks: a
            # segment with no children is not arranged again, so nothing would replace it.
            self._clear_arrangement_cache()  # private NodeList (Textual 8): `children` is typed as a plain Sequence

        self.call_next(forget_removed_blocks)

    def unpark(self) -> None:
        """Draw the text again; the parked height holds until it is drawn, so nothing jumps."""
        if not self.parked or self._restoring:
            return
        self.parked = False
        self._draw_again()
