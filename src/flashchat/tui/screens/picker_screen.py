"""A small modal list: pick one item with the arrows and Enter, or with its number key."""

from __future__ import annotations

from typing import Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from flashchat.render.safe_text import MESSAGE_CHARS, one_line

T = TypeVar("T")
# A choice is one line: a model name and description from the API, a code block's first line, a title.
LABEL_CHARS = 200


class PickerScreen(ModalScreen[T | None], Generic[T]):
    """Dismisses with the chosen value, or None on Esc.

    `choices` may come later (`set_choices`), for lists that are fetched from the API; until then the
    picker shows `loading_text`. Keys 1 to 9 pick the first nine items directly.
    """

    DEFAULT_CSS = """
    PickerScreen {
        align: center middle;
        & > Vertical {
            width: 90;
            max-width: 100%;
            height: auto;
            max-height: 80%;
            padding: 1 2;
            border: thick $primary;
            background: $surface;
        }
        & .picker-title {
            text-style: bold;
            color: $primary;
            margin: 0 0 1 0;
        }
        & .picker-status {
            color: $text-muted;
        }
        & OptionList {
            height: auto;
            max-height: 20;
        }
    }
    """

    BINDINGS = [Binding("escape", "dismiss", "Close")] + [
        Binding(str(number), f"pick_number({number})", show=False) for number in range(1, 10)
    ]

    def __init__(
        self,
        title: str,
        choices: list[tuple[str, T]] | None = None,
        *,
        loading_text: str = "Loading…",
        highlighted: int = 0,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.loading_text = loading_text
        self._values: list[T] = []
        self._initial = choices
        self._initial_highlight = highlighted

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(one_line(self.title_text, LABEL_CHARS)), classes="picker-title")
            yield Static(Content(one_line(self.loading_text, MESSAGE_CHARS)), classes="picker-status")
            yield OptionList()

    def on_mount(self) -> None:
        if self._initial is not None:
            self.set_choices(self._initial, highlighted=self._initial_highlight)

    def set_choices(self, choices: list[tuple[str, T]], *, highlighted: int = 0) -> None:
        self._values = [value for _, value in choices]
        options = self.query_one(OptionList)
        labels = [
            f"{number}  {label}" if number <= 9 else f"   {label}"
            for number, label in enumerate((one_line(label, LABEL_CHARS) for label, _ in choices), 1)
        ]
        options.set_options(Option(Content(label)) for label in labels)
        self.query_one(".picker-status", Static).display = not choices
        if choices:
            options.highlighted = min(highlighted, len(choices) - 1)
            options.focus()
        else:
            self.show_status("Nothing to pick from.")

    def show_status(self, text: str) -> None:
        status = self.query_one(".picker-status", Static)
        status.update(Content(one_line(text, MESSAGE_CHARS)))  # e.g. why the model list could not be fetched
        status.display = True

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._values[event.option_index])

    def action_pick_number(self, number: int) -> None:
        if number <= len(self._values):
            self.dismiss(self._values[number - 1])
