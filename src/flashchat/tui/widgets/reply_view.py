"""One model reply: header, thoughts, the answer in Markdown segments, and what went wrong if anything."""

from __future__ import annotations

import gc
from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from flashchat.conversation import Message
from flashchat.events import Retrying
from flashchat.safetext import terminal_safe
from flashchat.tui.segments import SEGMENT_CHARS, SegmentSplitter, split_segments
from flashchat.tui.text import SafeTextStream
from flashchat.tui.widgets.error_notice import ErrorNotice
from flashchat.tui.widgets.reply_segment import ReplySegment
from flashchat.tui.widgets.thoughts_block import ThoughtsBlock


def reply_header(model: str, thinking_level: str) -> str:
    return f"{model} · thinking {thinking_level}" if thinking_level else model


def reply_marker(message: Message | None, *, stopped: bool = False) -> str:
    """The line under a reply that did not end normally ("" for one that did)."""
    if stopped and message is None:
        return "⏹ stopped before the reply started"
    if message is not None and message.stopped:
        return "⏹ stopped: the partial reply is kept"
    if message is not None and message.incomplete:
        return "incomplete: the reply ended early; what arrived is kept"
    return ""


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    """A `gc.callbacks` hook: after a full collection, move every survivor to the permanent generation."""
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


class StreamingHeap:
    """Keeps CPython's full garbage collections cheap while a reply streams.

    A streaming reply churns through short-lived cyclic objects (the blocks each Markdown append builds and
    throws away, render caches), which triggers a full collection about once a second; each one walks every
    object the app holds, so it grew from 20 to 500 ms over a 20,000-token reply and made up a quarter of
    the UI thread's time, in stalls that delayed key echoes (bench/tui.py, paced run). While a reply streams,
    the survivors of each full collection are frozen (`gc.freeze`): they are the app and the reply so far,
    which are alive anyway, so later collections only walk what was allocated since. When the stream ends
    they are handed back (`gc.unfreeze`), so garbage among them is collected as usual from then on.
    """

    _streams = 0

    @classmethod
    def begin(cls) -> None:
        if cls._streams == 0:
            gc.callbacks.append(_freeze_survivors)
        cls._streams += 1

    @classmethod
    def end(cls) -> None:
        cls._streams -= 1
        if cls._streams == 0:
            gc.callbacks.remove(_freeze_survivors)
            gc.unfreeze()


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
        self._safe_text = SafeTextStream()
        self._safe_thoughts = SafeTextStream()
        self._splitter = SegmentSplitter(self.segment_chars)
        self._streaming_heap = False

    def on_mount(self) -> None:
        if not self.finished and not self._streaming_heap:
            self._streaming_heap = True
            StreamingHeap.begin()

    def on_unmount(self) -> None:
        self._end_streaming_heap()

    def _end_streaming_heap(self) -> None:
        if self._streaming_heap:
            self._streaming_heap = False
            StreamingHeap.end()

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
        for text in split_segments(terminal_safe(message.text), self.segment_chars) if message.text else []:
            yield ReplySegment(text)
        if marker := reply_marker(message):
            yield Static(Content(marker), classes="reply-marker")
        if message.error and not message.stopped:
            yield ErrorNotice(message.error)

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
        await self._write(self._splitter.feed(self._safe_text.feed(text)))

    async def show_retry(self, event: Retrying, clock: Callable[[], float]) -> None:
        notice = await self._ensure_notice()
        notice.show_retry(event.kind, event.attempt, event.max_attempts, event.delay_seconds, clock)

    async def finish(self, message: Message, notice: str = "") -> None:
        await self._close(message)
        if notice:
            (await self._ensure_notice()).show_error(notice, kind="notice")

    async def fail(self, message: Message | None, text: str) -> None:
        await self._close(message)
        (await self._ensure_notice()).show_error(text)

    async def stop(self, message: Message | None) -> None:
        await self._close(message, stopped=True)

    # -- internals

    async def _write(self, parts: list[str]) -> None:
        first, *rest = parts
        if first or rest:
            await self._clear_waiting()
            await self._drop_retry_notice()
        if first:
            await (await self._current_segment()).write(first)
        for text in rest:
            # A cut falls after a blank line outside any fence: the segment's blocks are already final.
            await (await self._current_segment()).finish(rerender=False)
            self._segment = None
            await (await self._current_segment()).write(text)

    async def _current_segment(self) -> ReplySegment:
        if self._segment is None:
            self._segment = ReplySegment(streaming=True)
            await self.mount(self._segment, before=self._notice)
        return self._segment

    async def _end_thoughts(self) -> None:
        if self._thoughts is not None and self._thoughts.segment.streaming:
            await self._thoughts.write(self._safe_thoughts.flush())
            await self._thoughts.finish()

    async def _clear_waiting(self) -> None:
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            await waiting.remove()

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
        await self._write([self._safe_text.flush() + self._splitter.flush()])
        if self._segment is not None:
            await self._segment.finish()
        await self._clear_waiting()
        if message is not None and (message.model_version or message.model):
            header = reply_header(message.model_version or message.model, message.thinking_level)
            self.query_one(".reply-header", Static).update(Content(header))
        if marker := reply_marker(message, stopped=stopped):
            await self.mount(Static(Content(marker), classes="reply-marker"), before=self._notice)
        self.call_after_refresh(self._end_streaming_heap)
