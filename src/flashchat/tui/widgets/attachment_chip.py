"""One attachment as a chip: its name, what it is and its size in tokens (under the composer before sending,
and under the prompt that sent it)."""

from __future__ import annotations

from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from flashchat.render.safe_text import one_line


class AttachmentChip(Static):
    """The token count comes from the API (countTokens) when the provider has one, else it is a `~` estimate;
    `over_limit` marks a set of attachments bigger than `attach_warn_tokens`, `problem` a file that will not
    be sent (no such file, a type the endpoint does not take). A media chip under the composer is clicked to
    change its media_resolution (`media_name`)."""

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
        &.-problem {
            background: $error 30%;
        }
    }
    """

    class ResolutionClicked(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(
        self, path: str, tokens: str, *, over_limit: bool = False, problem: bool = False, media_name: str = "",
        icon: str = "📎",
    ) -> None:  # fmt: skip
        # A repository's file names are not trusted: one safe line, whatever the name holds.
        shown = f"{icon} {one_line(path, 200)}" + (f" · {one_line(tokens, 200)}" if tokens else "")
        classes = " ".join(name for name, on in (("-over-limit", over_limit), ("-problem", problem)) if on)
        super().__init__(Content(shown), classes=classes)
        self.path = path
        self.media_name = media_name

    def on_click(self) -> None:
        if self.media_name:
            self.post_message(self.ResolutionClicked(self.media_name))
