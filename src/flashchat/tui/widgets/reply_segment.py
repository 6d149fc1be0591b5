"""One segment of a reply: a Markdown widget that streams, finishes once, and can be parked off-screen."""

from __future__ import annotations

from textual.timer import Timer
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock, MarkdownStream

from flashchat.tui.widgets.code_fence import DeferredFence
from flashchat.tui.widgets.streamed_list import StreamedBulletList, StreamedOrderedList

# Text is handed to the MarkdownStream at most 10 times a second. Every append re-parses the last block and
# costs a layout and a repaint of the whole scrolling view (10-25 ms in a long reply, about 30 widgets laid out
# and painted), so appending more often leaves no time for key presses: measured at 400 tokens/s
# (bench/tui.py), keystroke echo p95 was 250 ms at 1/60 s, ~58 ms at 1/20 s and ~46 ms at 1/10 s.
FLUSH_INTERVAL = 0.1


class ReplySegment(Markdown):
    """A slice of a reply (see `flashchat.tui.segments`) rendered as Markdown; also used for thoughts.

    While streaming, text is gathered for `FLUSH_INTERVAL` and then goes through Textual's
    `MarkdownStream`, which re-parses only the last block and coalesces writes when appends fall behind;
    `streaming` tells `DeferredFence` to leave an open fence unhighlighted. `finish` ends the stream; after
    that the segment is never written to again.

    A finished segment far from the viewport is *parked*: it keeps its height and its text but unmounts its
    blocks, so the compositor, which visits every displayed widget on every frame, skips them, and a long
    chat does not keep every reply's widgets in memory. Links are not opened by a
    click: model output should not launch a browser.
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
        self._restoring = False  # unparked, its blocks not mounted yet
        self._stream: MarkdownStream | None = None
        self._pending: list[str] = []
        self._flush_timer: Timer | None = None

    async def write(self, text: str) -> None:
        if not text:
            return
        self.text += text
        self._pending.append(text)
        if self._stream is None and self.is_mounted and len(self._pending) == 1:
            # A segment's first text goes out at once (it is the reply's first token when this is the first
            # segment): gathering for FLUSH_INTERVAL pays off only once the text flows.
            self.call_later(self._flush)
        elif self._flush_timer is None:
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

    def park(self) -> None:
        """Keep the height, drop the blocks: a parked segment holds only its text (and costs no frame time).

        A 20,000-token reply is about 800 block widgets, with their styles and render caches: holding them
        all took the app from 49 to 144 MB for that one reply (bench/tui.py, pty run).
        """
        if self.parked or self.streaming or self._restoring:
            return
        # No class that hides the blocks until they are gone: restyling every block of the segment cost more
        # than the one frame they may still take, off screen, before the removal lands (3.2 of 32 s profiled).
        self.styles.height = self.outer_size.height
        self.parked = True
        removal = self.query_children(MarkdownBlock).remove()

        async def forget_removed_blocks() -> None:
            # Textual's NodeList caches its displayed children until someone reads them again, and nothing
            # reads a parked segment's: without this read the removed blocks, render caches and all, stayed
            # alive (about 25 per reply; bench/tui.py --only long-session).
            await removal
            _ = self._nodes.displayed  # private NodeList (Textual 8): `children` is typed as a plain Sequence
            # And the arrangement cached for the last layout, whose placements still hold the removed blocks: a
            # segment with no children is not arranged again, so nothing would replace it.
            self._clear_arrangement_cache()

        self.call_next(forget_removed_blocks)

    def unpark(self) -> None:
        """Render the text again; the parked height holds until the blocks are back, so nothing jumps."""
        if not self.parked or self._restoring:
            return
        self.parked = False
        self._restoring = True

        async def restore() -> None:
            try:
                await self.update(self.text)
            finally:
                self._restoring = False
            self.styles.height = "auto"

        self.call_next(restore)
