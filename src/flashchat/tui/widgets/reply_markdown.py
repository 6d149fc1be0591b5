"""The Markdown widget for model output: fences stay unhighlighted while they are still open."""

from __future__ import annotations

from textual.widgets import Markdown

from flashchat.tui.widgets.code_fence import DeferredFence


class ReplyMarkdown(Markdown):
    """Markdown for replies and thoughts.

    `streaming` is True while a `MarkdownStream` writes into it; `DeferredFence` reads it to skip
    highlighting an open fence. Links are not opened by a click: model output should not launch a browser.
    """

    BLOCKS = {**Markdown.BLOCKS, "fence": DeferredFence, "code_block": DeferredFence}

    def __init__(self, markdown: str | None = None, *, streaming: bool = False, classes: str | None = None) -> None:
        super().__init__(markdown, classes=classes, open_links=False)
        self.streaming = streaming
