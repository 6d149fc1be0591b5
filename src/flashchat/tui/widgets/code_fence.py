"""A code fence that is highlighted once it is complete, not on every streamed token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from markdown_it.token import Token
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Label
from textual.widgets.markdown import MarkdownBlock, MarkdownFence

from flashchat.tui.widgets.streaming_code import StreamingCode

if TYPE_CHECKING:
    from textual.widgets import Markdown


def fence_is_open(token: Token) -> bool:
    """True for a ``` fence whose closing line has not arrived yet.

    markdown-it runs an unclosed fence to the end of the text, so its line span is the opening line plus the
    content lines; a closed fence spans one more line, the closing marker.
    """
    if token.type != "fence" or token.map is None:
        return False
    content = token.content
    content_lines = content.count("\n") + (1 if content and not content.endswith("\n") else 0)
    return token.map[1] - token.map[0] < content_lines + 2


class DeferredFence(MarkdownFence):
    """Shows an open fence as plain text while its Markdown widget streams.

    Textual rebuilds the last block on every append, and Pygments re-highlights a whole open fence each time
    (about 23 ms for 300 lines). Once the closing line arrives, the block is rebuilt as a closed fence and is
    highlighted once; the final `update` of a finished reply highlights a fence that never closed. While the
    fence is open its code is a `StreamingCode`, which only measures what each append added.
    """

    DEFAULT_CSS = """
    DeferredFence > StreamingCode {
        padding: 1 2;
    }
    DeferredFence:ansi > StreamingCode {
        padding: 1 0;
    }
    """

    def __init__(self, markdown: Markdown, token: Token, code: str) -> None:
        self.deferred = bool(getattr(markdown, "streaming", False)) and fence_is_open(token)
        super().__init__(markdown, token, code)

    def highlight(self, code: str, language: str, ansi: bool = False, dark: bool = False) -> Content:  # type: ignore[override]
        if self.deferred:
            return Content(code)
        return MarkdownFence.highlight(code, language, ansi=ansi, dark=dark)

    def compose(self) -> ComposeResult:
        if self.deferred:
            yield StreamingCode(self.code, id="code-content")
        else:
            yield from super().compose()

    def set_content(self, content: Content) -> None:
        if self.deferred:
            self._content = content
            for view in self.query_children(StreamingCode):
                view.set_code(self.code)
        else:
            super().set_content(content)

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        if self.deferred and isinstance(block, DeferredFence) and not block.deferred:
            # The closing line arrived: from now on this is a highlighted fence, as in a finished reply.
            self._copy_context(block)
            await self.remove_children()
            await self.mount(Label(self._highlighted_code, id="code-content", expand=True))
            return
        await super()._update_from_block(block)

    def _copy_context(self, block: MarkdownBlock) -> None:
        if isinstance(block, DeferredFence):
            self.deferred = block.deferred
        super()._copy_context(block)
