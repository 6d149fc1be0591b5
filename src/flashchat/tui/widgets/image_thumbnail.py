"""An attached image shown in the conversation as a small picture of half-block cells (▀: the upper pixel in
the foreground colour, the lower one in the background), which every colour terminal can draw."""

from __future__ import annotations

import io

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget

from flashchat.core.media import MediaRef
from flashchat.render.safe_text import one_line

MAX_COLUMNS = 32
MAX_ROWS = 10  # cells: 20 pixel rows


def half_block_rows(data: bytes, columns: int = MAX_COLUMNS, rows: int = MAX_ROWS) -> list[list[Segment]] | None:
    """The image scaled to fit `columns` × `rows` cells (aspect kept, a cell is about twice as tall as wide),
    as rows of segments; None when Pillow cannot read it (HEIC without a plugin, a damaged file)."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = opened.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    width, height = image.size
    # Fit the box, small images scaled up too (a 16 × 16 icon should still be seen).
    scale = min(columns / width, (rows * 2) / height)
    size = (max(1, round(width * scale)), max(2, round(height * scale)))
    resampling = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS
    pixels = image.resize(size, resampling).load()
    assert pixels is not None
    lines: list[list[Segment]] = []
    for top in range(0, size[1] - 1, 2):
        line = []
        for x in range(size[0]):
            upper, lower = pixels[x, top], pixels[x, top + 1]
            style = Style(color=Color.from_rgb(*upper[:3]), bgcolor=Color.from_rgb(*lower[:3]))  # type: ignore[index]
            line.append(Segment("▀", style))
        lines.append(line)
    return lines


class ImageThumbnail(Widget):
    """The picture, then a caption with the file's name, type and size, and the key that opens it."""

    DEFAULT_CSS = """
    ImageThumbnail {
        width: auto;
        height: auto;
        margin: 0 2 1 4;
    }
    """

    def __init__(
        self, ref: MediaRef, data: bytes, open_key: str, *, columns: int = MAX_COLUMNS, rows: int = MAX_ROWS
    ) -> None:
        super().__init__()
        self.ref = ref
        self._rows = half_block_rows(data, columns, rows) or []
        self._caption = Content(
            f"🖼 {one_line(ref.name, 200)} · {ref.describe()}" + (f" · {open_key} opens it" if open_key else "")
        )

    def get_content_width(self, container, viewport) -> int:  # type: ignore[no-untyped-def]
        picture = max((len(row) for row in self._rows), default=0)
        return max(picture, self._caption.cell_length)

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return len(self._rows) + 1

    def render_line(self, y: int) -> Strip:
        if y < len(self._rows):
            return Strip(self._rows[y])
        if y == len(self._rows):
            return Strip(list(self._caption.render_segments(self.visual_style)))
        return Strip.blank(self.size.width)
