"""The sources of a grounded reply: numbered citations and the searches the model ran."""

from __future__ import annotations

from textual.widgets import Markdown

from flashchat.render.sources import link_target


class SourcesBlock(Markdown):
    """Shown under a reply whose message carries grounding metadata; the Markdown comes from
    `flashchat.render.sources.sources_markdown`, the same text the REPL and one-shot mode print (its titles
    and queries are inert, and only http(s) addresses are links).

    A click opens a link in the browser only when it is an http(s) address: the server chose it, and
    `file:` or `javascript:` must not get that far even if one slipped into the Markdown.
    """

    DEFAULT_CSS = """
    SourcesBlock {
        height: auto;
        margin: 0 2 1 2;
        padding: 0 1;
        border-left: outer $accent;
        background: transparent;
        color: $text-muted;
        /* The class makes this outrank Textual's `Markdown > MarkdownParagraph` margin whichever stylesheet
           loads first (replies were Markdown widgets too, and loaded Textual's rules before this one). */
        & > MarkdownBlock, & > MarkdownBlock.level-0 {
            margin: 0;
        }
    }
    """

    def __init__(self, markdown: str | None = None, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(markdown, id=id, classes=classes, open_links=False)

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        if link_target(event.href) is not None:
            self.app.open_url(event.href)
