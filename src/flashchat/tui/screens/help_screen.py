"""F1: every key and action, from the one action table, and what the full-screen chat leaves to other modes."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from flashchat.core.commands import not_offered
from flashchat.tui.actions import effective_key, tui_actions

COMPOSER_KEYS = (
    ("enter", "Send the prompt"),
    ("shift+enter, ctrl+j", "New line (Shift+Enter needs a terminal with the kitty keyboard protocol)"),
    ("up / down", "On an empty composer: earlier prompts"),
    ("ctrl+f", "Expand the [pasted: …] chips into the full text"),
    ("@path", "Attach a file (honours .gitignore): up / down choose, tab or enter completes, esc closes the list"),
    ("a / o / d", "When the model asks to run a local tool: allow always / once, or deny (esc denies too)"),
    ("ctrl+p", "Command palette: every action, thinking levels, themes"),
    ("ctrl+q", "Quit"),
)
KEYS_NOTE = (
    "[keys]",
    'Rebind any action in the config file by the name in brackets: [keys] then usage = "ctrl+y" '
    '(several keys: "ctrl+y,f9"). Plain mode uses the same names where the terminal can send the key.',
)


def key_table(chosen: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(key, text) rows: the composer's keys, each action with its key now (the config's, else the default,
    else the palette), what this mode leaves to others, and how to rebind."""
    chosen = chosen or {}
    rows, palette = [], []
    for action, tui in tui_actions():
        key = effective_key(action, tui, chosen)
        text = f"{action.title}: {action.help} [{action.name}]"
        (rows if key else palette).append((key.replace(",", ", ") if key else "ctrl+p", text))
    elsewhere = [("—", f"{action.title}: {reason}") for action, reason in not_offered("tui")]
    return [*COMPOSER_KEYS, *rows, *palette, *elsewhere, KEYS_NOTE]


class HelpScreen(ModalScreen[None]):
    """Closes with Esc, F1 or q."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        & > VerticalScroll {
            width: 100;
            max-width: 100%;
            height: auto;
            max-height: 90%;
            padding: 1 2;
            border: thick $primary;
            background: $surface;
        }
        & .help-title {
            text-style: bold;
            color: $primary;
        }
    }
    """

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, chosen: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.chosen = dict(chosen or {})

    def compose(self) -> ComposeResult:
        from rich.table import Table
        from rich.text import Text

        # A two-column table, so a long description wraps inside its own column, not back to column 0.
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")
        table.add_column(ratio=1)
        accent = self.app.current_theme.accent or "yellow"
        for key, text in key_table(self.chosen):
            table.add_row(Text(key, style=f"bold {accent}"), Text(text))
        with VerticalScroll():
            yield Static("flashchat keys", classes="help-title")
            yield Static(table)
