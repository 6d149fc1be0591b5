"""First run without a key: explain where the key comes from and offer to save one."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from flashchat.config.settings import ConfigError, update_config_file

EXPLANATION = (
    "flashchat needs a Gemini API key. Get one at https://aistudio.google.com/apikey, then either:\n\n"
    "• set it in your shell: export GEMINI_API_KEY=... (GOOGLE_API_KEY works too; the environment wins), or\n"
    "• paste it below to save it as api_key in {config_path} (written with mode 0600, readable only by you).\n\n"
    "The key is never shown, logged or stored in the chat history. Esc skips this: your history stays "
    "browsable, and F4 brings this screen back."
)


class SetupScreen(ModalScreen[str | None]):
    """Dismisses with the saved key, or None when skipped. The key is typed into a password field."""

    DEFAULT_CSS = """
    SetupScreen {
        align: center middle;
        & > Vertical {
            width: 84;
            max-width: 100%;
            height: auto;
            padding: 1 2;
            border: thick $primary;
            background: $surface;
        }
        & #setup-title {
            text-style: bold;
            color: $primary;
            margin: 0 0 1 0;
        }
        & #setup-problem {
            color: $text-error;
            height: auto;
        }
        & Horizontal {
            height: auto;
            margin: 1 0 0 0;
            align: right middle;
        }
        & Button {
            margin: 0 0 0 2;
        }
    }
    """

    BINDINGS = [Binding("escape", "skip", "Skip")]

    def __init__(self, config_path: Path) -> None:
        super().__init__()
        self.config_path = config_path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Set up your Gemini API key", id="setup-title")
            yield Static(Content(EXPLANATION.format(config_path=self.config_path)), id="setup-explanation")
            yield Input(placeholder="API key", password=True, id="setup-key")
            yield Static(id="setup-problem")
            with Horizontal():
                yield Button("Skip", id="setup-skip")
                yield Button("Save key", variant="primary", id="setup-save")

    def on_mount(self) -> None:
        self.query_one("#setup-key", Input).focus()

    @on(Input.Submitted, "#setup-key")
    @on(Button.Pressed, "#setup-save")
    def save(self) -> None:
        key = self.query_one("#setup-key", Input).value.strip()
        problem = self.query_one("#setup-problem", Static)
        if not key:
            problem.update("Paste a key first (or press Esc to skip).")
            return
        try:
            update_config_file(self.config_path, "api_key", key)
        except (ConfigError, OSError) as error:
            problem.update(Content(f"Could not save the key: {error}"))
            return
        self.dismiss(key)

    @on(Button.Pressed, "#setup-skip")
    def action_skip(self) -> None:
        self.dismiss(None)
