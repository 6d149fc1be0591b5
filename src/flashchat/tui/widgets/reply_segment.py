"""One segment of a reply: a Markdown widget that streams, finishes once, and can be parked off-screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets.markdown import MarkdownStream

from flashchat.tui.widgets.reply_markdown import ReplyMarkdown


class ReplySegment(Vertical):
    """A slice of a reply (see `flashchat.tui.segments`) with its own `ReplyMarkdown`.

    While streaming, text goes through Textual's `MarkdownStream`, which re-parses only the last block and
    coalesces writes when tokens outrun rendering. `finish` replaces the streamed blocks with one final
    `update` of the whole text (this also highlights a fence that never closed); after that the Markdown is
    never written to again.

    A finished segment far from the viewport is *parked*: it keeps its height but hides its Markdown, so the
    compositor, which visits every displayed widget on every frame, skips its blocks.
    """

    DEFAULT_CSS = """
    ReplySegment {
        height: auto;
    }
    """

    def __init__(self, text: str = "", *, streaming: bool = False) -> None:
        super().__init__()
        self.text = text
        self.streaming = streaming
        self.parked = False
        self._markdown = ReplyMarkdown(None if streaming else text, streaming=streaming)
        self._stream: MarkdownStream | None = None

    def compose(self) -> ComposeResult:
        yield self._markdown

    @property
    def markdown(self) -> ReplyMarkdown:
        return self._markdown

    async def write(self, text: str) -> None:
        if not text:
            return
        if self._stream is None:
            self._stream = ReplyMarkdown.get_stream(self._markdown)
        self.text += text
        await self._stream.write(text)

    async def finish(self) -> None:
        """Stop streaming and render the whole text once more, this time with every fence highlighted."""
        if not self.streaming:
            return
        self.streaming = False
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        self._markdown.streaming = False
        await self._markdown.update(self.text)

    def park(self) -> None:
        if self.parked or self.streaming:
            return
        self.styles.height = self.outer_size.height
        self._markdown.display = False
        self.parked = True

    def unpark(self) -> None:
        if not self.parked:
            return
        self._markdown.display = True
        self.styles.height = "auto"
        self.parked = False
