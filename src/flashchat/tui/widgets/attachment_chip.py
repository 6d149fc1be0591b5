"""A file attached with `@path`: its path and its size in tokens, under the prompt that mentioned it."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from flashchat.render.safe_text import one_line


class AttachmentChip(Static):
    """The token count comes from the API (countTokens) when the provider has one, else it is a `~` estimate;
    `over_limit` marks a set of attachments bigger than `attach_warn_tokens`."""

    DEFAULT_CSS = """
    AttachmentChip {
        width: auto;
        height: 1;
        margin: 0 2 1 4;
        padding: 0 1;
        background: $accent 20%;
        color: $text;
        &.-over-limit {
            background: $warning 30%;
        }
    }
    """

    def __init__(self, path: str, tokens: str, *, over_limit: bool = False) -> None:
        # A repository's file names are not trusted: one safe line, whatever the name holds.
        label = Content(f"📎 {one_line(path, 200)} · {one_line(tokens, 60)}")
        super().__init__(label, classes="-over-limit" if over_limit else "")
        self.path = path
