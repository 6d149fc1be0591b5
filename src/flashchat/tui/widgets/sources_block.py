"""The sources of a grounded reply: numbered citations and the searches the model ran."""

from __future__ import annotations

from textual.widgets import Markdown


class SourcesBlock(Markdown):
    """Shown under a reply whose message carries grounding metadata; the Markdown comes from
    `flashchat.grounding.sources_markdown`, the same text the REPL and one-shot mode print."""

    DEFAULT_CSS = """
    SourcesBlock {
        height: auto;
        margin: 0 2 1 2;
        padding: 0 1;
        border-left: outer $accent;
        background: transparent;
        color: $text-muted;
        & > MarkdownBlock {
            margin: 0;
        }
    }
    """
