"""Stored replies' lines, rendered ahead of the reader in the idle time between keys.

Reading up (or down) a long conversation, `ConversationView`'s window mounts a few stored messages per step, and
each reply's Markdown took milliseconds to render when the step laid it out: in the frame the reader was waiting
for. The view renders the next step's segments here beforehand, one segment per turn of the event loop, and a
segment mounted later takes its lines instead of rendering them (`ReplySegment.take_lines_rendered_ahead`).
"""

from __future__ import annotations

from collections import OrderedDict

from flashchat.render.markdown_lines import MarkdownLines, MarkdownStyles

# Segments kept rendered: a few window steps' worth each way (a reply is one segment per ~2,000 characters).
# The oldest go first, so a conversation read from end to start keeps no more than this.
KEPT_SEGMENTS = 24


class LinesAhead:
    """Rendered segments by their text, each kept at the width and colours it was rendered at."""

    def __init__(self) -> None:
        self._rendered: OrderedDict[str, MarkdownLines] = OrderedDict()
        self._width = 0
        self._styles: MarkdownStyles | None = None

    def __len__(self) -> int:
        return len(self._rendered)

    def has(self, text: str, width: int, styles: MarkdownStyles) -> bool:
        return (width, styles) == (self._width, self._styles) and text in self._rendered

    def render(self, text: str, width: int, styles: MarkdownStyles) -> None:
        if (width, styles) != (self._width, self._styles):
            # Lines at another width (a resize) or in other colours (a new theme) would be rendered again anyway.
            self._rendered.clear()
            self._width, self._styles = width, styles
        renderer = MarkdownLines(styles)
        renderer.render(text, width)  # kept by the renderer: the same text at the same width comes back at once
        self._rendered[text] = renderer
        self._rendered.move_to_end(text)
        while len(self._rendered) > KEPT_SEGMENTS:
            self._rendered.popitem(last=False)

    def texts(self) -> list[str]:
        """The segments rendered and not taken yet, oldest first."""
        return list(self._rendered)

    def take(self, text: str) -> MarkdownLines | None:
        """The renderer that drew `text`, once (a segment that takes it owns it), or None."""
        return self._rendered.pop(text, None)

    def clear(self) -> None:
        self._rendered.clear()


# One per process: the conversation view fills it and its reply segments, mounted a moment later, empty it. A
# renderer taken by another app's segment (tests run several) is still right: the segment checks the width and
# the colours before it uses the lines.
LINES_AHEAD = LinesAhead()
