"""The model's thought summaries: streamed into a collapsible block above the reply."""

from __future__ import annotations

from textual.widgets import Collapsible

from flashchat.tui.widgets.reply_segment import ReplySegment

THINKING_TITLE = "Thinking…"
THOUGHTS_TITLE = "Thoughts"


class ThoughtsBlock(Collapsible):
    """Open while thoughts stream in, collapsed once the answer starts (or when shown from history).

    Click the title, or focus it and press Enter, to read the thoughts again.
    """

    DEFAULT_CSS = """
    ThoughtsBlock {
        height: auto;
        border: none;
        padding: 0;
        margin: 0 0 1 0;
        background: transparent;
        color: $text-muted;
        & > Contents {
            padding: 0 0 0 2;
        }
        & ReplySegment {
            color: $text-muted;
        }
    }
    """

    def __init__(self, text: str = "", *, streaming: bool = False) -> None:
        self.segment = ReplySegment(text, streaming=streaming)
        super().__init__(self.segment, title=THINKING_TITLE if streaming else THOUGHTS_TITLE, collapsed=not streaming)

    @property
    def text(self) -> str:
        return self.segment.text

    async def write(self, text: str) -> None:
        await self.segment.write(text)

    async def finish(self) -> None:
        """Thinking is over: collapse, retitle, and render the thoughts once more in full."""
        self.collapsed = True
        self.title = THOUGHTS_TITLE
        await self.segment.finish()
