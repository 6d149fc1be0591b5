"""An attached image full size: as large as the screen allows in half-block cells, Esc closes it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from flashchat.core.media import MediaRef
from flashchat.tui.widgets.image_thumbnail import ImageThumbnail


class ImageScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ImageScreen {
        align: center middle;
        & > Vertical {
            width: auto;
            height: auto;
            max-width: 100%;
            max-height: 100%;
            padding: 0 1;
            border: thick $primary;
            background: $surface;
        }
        & .image-hint {
            color: $text-muted;
        }
    }
    """

    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(self, ref: MediaRef, data: bytes) -> None:
        super().__init__()
        self._ref = ref
        self._data = data

    def compose(self) -> ComposeResult:
        columns, rows = max(8, self.app.size.width - 6), max(4, self.app.size.height - 6)
        with Vertical():
            yield ImageThumbnail(self._ref, self._data, "", columns=columns, rows=rows)
            yield Static("Esc closes", classes="image-hint")
