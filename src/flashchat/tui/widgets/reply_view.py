"""One model reply: header, thoughts, the answer in Markdown segments, and what went wrong if anything."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from flashchat.core.conversation import Message
from flashchat.core.events import Retrying
from flashchat.render.citations import cited_text, has_citations
from flashchat.render.math import MathStream, render_math
from flashchat.render.safe_text import NAME_CHARS, SafeTextStream, one_line, terminal_safe
from flashchat.tui.segments import SEGMENT_CHARS, SegmentSplitter, split_segments
from flashchat.tui.widgets.error_notice import ErrorNotice
from flashchat.tui.widgets.reply_footer import ReplyFooter
from flashchat.tui.widgets.reply_segment import ReplySegment
from flashchat.tui.widgets.thoughts_block import ThoughtsBlock


def reply_header(model: str, thinking_level: str) -> str:
    model = one_line(model, NAME_CHARS)  # the model version is the server's (or an imported file's) string
    return f"{model} · thinking {one_line(thinking_level, NAME_CHARS)}" if thinking_level else model


def reply_marker(message: Message | None, *, stopped: bool = False) -> str:
    """The line under a reply that did not end normally ("" for one that did)."""
    if stopped and message is None:
        return "⏹ stopped before the reply started"
    if message is not None and message.stopped:
        return "⏹ stopped: the partial reply is kept"
    if message is not None and message.incomplete:
        return "incomplete: the reply ended early; what arrived is kept"
    return ""


class ReplyView(Vertical):
    """A model reply, either streamed live or rebuilt from a stored `Message`.

    The app calls `add_thoughts` / `add_text` for each delta and then exactly one of `finish`, `fail` or
    `stop`. After that the reply is final: nothing writes to it again.
    """

    DEFAULT_CSS = """
    ReplyView {
        height: auto;
        margin: 0 0 1 0;
        & > .reply-header {
            color: $text-muted;
            padding: 0 2;
            text-style: italic;
        }
        & > .reply-waiting {
            color: $text-muted;
            padding: 0 2;
        }
        & > .reply-marker {
            color: $text-warning;
            padding: 0 2;
        }
    }
    """

    segment_chars = SEGMENT_CHARS  # how long a segment grows before the next possible cut

    def __init__(self, *, model: str, thinking_level: str, message: Message | None = None) -> None:
        super().__init__()
        self.model = model
        self.thinking_level = thinking_level
        self.message = message
        self.finished = message is not None
        self._thoughts: ThoughtsBlock | None = None
        self._segment: ReplySegment | None = None
        self._notice: ErrorNotice | None = None
        self._waiting: Static | None = None
        self._math = MathStream()  # LaTeX formulas as Unicode on screen (the stored reply keeps the LaTeX)
        self._safe_text = SafeTextStream()
        self._safe_thoughts = SafeTextStream()
        self._splitter = SegmentSplitter(self.segment_chars)

    def compose(self) -> ComposeResult:
        message = self.message
        model = (message.model_version or message.model or self.model) if message else self.model
        yield Static(Content(reply_header(model, self.thinking_level)), classes="reply-header")
        if message is None:
            self._waiting = Static("waiting for the model…", classes="reply-waiting")
            yield self._waiting
            return
        if message.thoughts:
            yield ThoughtsBlock(terminal_safe(message.thoughts))
        for text in self.stored_segment_texts(message):
            yield ReplySegment.of_stored_text(text)
        if marker := reply_marker(message):
            yield Static(Content(marker), classes="reply-marker")
        if ReplyFooter.wanted(message):
            yield ReplyFooter(message)
        if message.error and not message.stopped:
            yield ErrorNotice(message.error)

    @classmethod
    def stored_segment_texts(cls, message: Message) -> list[str]:
        """The texts of the segments a stored reply is shown in (what `compose` mounts; the conversation view
        renders them ahead of the reader with these)."""
        if not message.text:
            return []
        shown = cited_text(message.text, message.extras)  # with citation markers where sources back it
        return split_segments(terminal_safe(render_math(shown)), cls.segment_chars)

    # -- what the app calls while the reply streams

    @property
    def text(self) -> str:
        """The answer as shown (terminal-safe), across all segments."""
        return "".join(segment.text for segment in self.query_children(ReplySegment))

    @property
    def segments(self) -> list[ReplySegment]:
        return list(self.query_children(ReplySegment))

    async def add_thoughts(self, text: str) -> None:
        safe = self._safe_thoughts.feed(text)
        if self._thoughts is None:
            await self._clear_waiting()
            await self._drop_retry_notice()
            self._thoughts = ThoughtsBlock(streaming=True)
            await self.mount(self._thoughts, after=self.query_one(".reply-header"))
        await self._thoughts.write(safe)

    async def add_text(self, text: str) -> None:
        await self._end_thoughts()
        await self._write(self._splitter.feed(self._safe_text.feed(self._math.feed(text))))

    async def show_retry(self, event: Retrying, clock: Callable[[], float]) -> None:
        notice = await self._ensure_notice()
        notice.show_retry(event.kind, event.attempt, event.max_attempts, event.delay_seconds, clock)

    async def finish(self, message: Message, notice: str = "") -> None:
        await self._close(message)
        if has_citations(message.extras):
            await self._show_citations(message)
        if notice:
            (await self._ensure_notice()).show_error(notice, kind="notice")

    async def fail(self, message: Message | None, text: str) -> None:
        await self._close(message)
        (await self._ensure_notice()).show_error(text)

    async def stop(self, message: Message | None) -> None:
        await self._close(message, stopped=True)

    # -- internals

    async def _show_citations(self, message: Message) -> None:
        """Grounding arrives with the last chunk: the streamed text is written again with its markers."""
        shown = cited_text(message.text, message.extras)
        streamed = self.segments
        if shown == message.text or not streamed:
            return
        cited = [ReplySegment(text) for text in split_segments(terminal_safe(render_math(shown)), self.segment_chars)]
        await self.mount_all(cited, before=streamed[0])
        await self.remove_children(streamed)
        self._segment = None

    async def _write(self, parts: list[str]) -> None:
        first, *rest = parts
        if not first and not rest:
            return
        if self._segment is not None and not rest:
            await self._segment.write(first)  # text flowing into the open segment: nothing to mount
            return
        # The first text (or a cut) removes and mounts widgets: one frame for all of it, the text included, not
        # one per step (each a layout of the screen, which the first token waited for: bench/tui.py).
        with self.app.batch_update():
            await self._clear_waiting()
            await self._drop_retry_notice()
            if first:
                await (await self._current_segment()).write(first)
            for text in rest:
                # A cut falls after a blank line outside any fence: the segment's blocks are already final.
                ended = await self._current_segment()
                # The rows it held blank go to the next segment: the reply keeps its height, and a view
                # pinned to the bottom does not move at the cut.
                blank_rows = ended.blank_rows
                await ended.finish(rerender=False)
                self._segment = None
                await (await self._current_segment(blank_rows)).write(text)

    async def _current_segment(self, reserved_rows: int = 0) -> ReplySegment:
        if self._segment is None:
            self._segment = ReplySegment(streaming=True, reserved_rows=reserved_rows)
            await self.mount(self._segment, before=self._notice)
        return self._segment

    async def _end_thoughts(self) -> None:
        if self._thoughts is not None and self._thoughts.segment.streaming:
            await self._thoughts.write(self._safe_thoughts.flush())
            await self._thoughts.finish()

    async def _clear_waiting(self) -> None:
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            # Hidden at once, removed without waiting: awaiting the removal took a few turns of the app's queue
            # (up to 10 ms under load) that the reply's first token waited for.
            waiting.display = False
            waiting.remove()

    async def _drop_retry_notice(self) -> None:
        """The countdown is over once the retried request delivers (or the reply ends)."""
        if self._notice is not None and self._notice.retrying:
            notice, self._notice = self._notice, None
            await notice.remove()

    async def _ensure_notice(self) -> ErrorNotice:
        if self._notice is None:
            self._notice = ErrorNotice()
            await self.mount(self._notice)
        return self._notice

    async def _close(self, message: Message | None, *, stopped: bool = False) -> None:
        self.message = message
        self.finished = True
        await self._drop_retry_notice()
        await self._end_thoughts()
        held = self._splitter.feed(self._safe_text.feed(self._math.flush()))
        await self._write([*held[:-1], held[-1] + self._safe_text.flush() + self._splitter.flush()])
        if self._segment is not None:
            await self._segment.finish()
        await self._clear_waiting()
        if message is not None and (message.model_version or message.model):
            header = reply_header(message.model_version or message.model, message.thinking_level)
            self.query_one(".reply-header", Static).update(Content(header))
        if marker := reply_marker(message, stopped=stopped):
            await self.mount(Static(Content(marker), classes="reply-marker"), before=self._notice)
        if ReplyFooter.wanted(message):
            await self.mount(ReplyFooter(message), before=self._notice)
