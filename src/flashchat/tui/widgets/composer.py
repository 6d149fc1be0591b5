"""The prompt box: Enter sends, Shift+Enter or Ctrl+J adds a line, long pastes become chips."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from textual import events, on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from flashchat.core.attachments import mention_at_cursor
from flashchat.render.formatting import count

CHIP_MIN_LINES = 21  # a paste over 20 lines becomes a chip
# So does one over this many characters, however few lines: TextArea wraps a whole line again for each row it
# draws, so a 2 MB single-line paste made every keystroke take seconds.
CHIP_MIN_CHARS = 5_000
# The longest `@path` mention looked for left of the cursor: the check runs on every keystroke, and must not
# scan a whole long line each time.
_MENTION_WINDOW = 4096
_NAMED_IN_DIFF = re.compile(r"^(?:\+\+\+ b/|diff --git a/)(\S+)", re.MULTILINE)
# Keys the path popup takes while it is open; everything else goes on into the composer.
COMPLETION_KEYS = ("up", "down", "tab", "enter", "escape")
_NAMED_IN_COMMENT = re.compile(r"^\s*(?:#|//|--|/\*|<!--)\s*(?:file(?:name)?:\s*)?([\w./-]+\.[A-Za-z0-9]{1,6})\b")


def guess_paste_name(text: str) -> str:
    """A file name the pasted text seems to come from ("" when there is no clue): diff headers, or a first-line
    comment naming a file."""
    if match := _NAMED_IN_DIFF.search(text, 0, 2000):
        return match[1].rsplit("/", 1)[-1]
    first_lines = text.split("\n", 3)[:3]
    for line in first_lines:
        if match := _NAMED_IN_COMMENT.match(line):
            return match[1].rsplit("/", 1)[-1]
    return ""


def line_count(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def becomes_chip(text: str) -> bool:
    return len(text) > CHIP_MIN_CHARS or line_count(text) >= CHIP_MIN_LINES


@dataclass
class Draft:
    """What is in the composer: the visible text and the full text behind each paste chip in it."""

    text: str = ""
    pastes: dict[str, str] = field(default_factory=dict)

    def expanded(self) -> str:
        """The text to send: every chip still present replaced by what was pasted."""
        text = self.text
        for chip, pasted in self.pastes.items():
            text = text.replace(chip, pasted)
        return text


def draft_for(text: str) -> Draft:
    """A draft showing `text`, as a single chip when it is long (for recalling a pasted prompt)."""
    if not becomes_chip(text):
        return Draft(text)
    chip = chip_label(text, 1)
    return Draft(chip, {chip: text})


def chip_label(text: str, number: int) -> str:
    name = guess_paste_name(text)
    lines = line_count(text)
    size = f"{count(lines)} lines" if lines >= CHIP_MIN_LINES else f"{count(len(text))} characters"
    details = size + (f", {name}?" if name else "")
    return f"[pasted: {details}]" if number == 1 else f"[pasted #{number}: {details}]"


class Composer(TextArea):
    """A multi-line TextArea for prompts.

    - Enter posts `Composer.Submitted`; Shift+Enter (terminals with the kitty keyboard protocol) and Ctrl+J
      (everywhere) insert a newline.
    - A bracketed paste arrives as one `Paste` event. Over 20 lines or 5,000 characters it is not inserted: a
      chip such as `[pasted: 412 lines, app.py?]` stands in for it, which keeps a 2,000-line paste (or a 2 MB
      single line) instant; the full text is sent, and Ctrl+F expands the chips in place.
    - Up on an empty composer recalls earlier prompts; Down walks back to the draft.
    - Bound keys (Backspace, the arrows...) run their action as the key arrives, in order with the typed letters.
    - Typing `@` starts a file mention: `MentionChanged` carries what follows it, so the app can offer paths;
      while the app sets `completing`, the keys in COMPLETION_KEYS go to it as `CompletionKey`.
    """

    DEFAULT_CSS = """
    Composer {
        height: auto;
        min-height: 3;
        max-height: 12;
        border: tall $border-blurred;
        padding: 0 1;
        &:focus {
            border: tall $border;
        }
    }
    """

    BINDINGS = [
        Binding("shift+enter,ctrl+j", "newline", "New line", key_display="⇧⏎/^J", show=False),
        Binding("ctrl+f", "expand_pastes", "Expand paste", show=False),
    ]

    class Submitted(Message):
        """The user pressed Enter on a non-empty prompt. `text` has every paste chip expanded."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class PathPasted(Message):
        """A pasted (or dropped) path names an existing file: the app attaches it."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    class MentionChanged(Message):
        """The `@path` at the cursor changed: `prefix` is what follows the `@`, None when there is no mention."""

        def __init__(self, prefix: str | None) -> None:
            super().__init__()
            self.prefix = prefix

    class CompletionKey(Message):
        """A key meant for the open path popup (one of COMPLETION_KEYS)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            highlight_cursor_line=False,
            placeholder="Message Gemini · Enter sends · Ctrl+J new line · ↑ earlier prompts",
        )
        self.pastes: dict[str, str] = {}
        self._history: list[Draft] = []  # earlier prompts, oldest first
        self._history_position: int | None = None  # index into _history while recalling
        self._unsent = Draft()  # what was typed before the user started recalling
        self.completing = False  # set by the app while the path popup is open
        self._mention: str | None = None

    # -- sending

    async def _on_key(self, event: events.Key) -> None:
        # Runs before TextArea's own handler, which would insert "\n" for Enter.
        if self.completing and event.key in COMPLETION_KEYS:
            event.stop()
            event.prevent_default()
            self.post_message(self.CompletionKey(event.key))
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.submit()
        elif not event.is_printable and not self.read_only and await self.app._check_bindings(event.key):
            # A key bound to an action (Backspace, the arrows, Ctrl+W...) runs it here, in turn with the letters
            # TextArea inserts. Left to Textual, it ran only once the key had bubbled back up to the app, a hop
            # through every ancestor's queue: a busy app (a reply streaming) reads keys in bursts, so the letter
            # typed after a Backspace was inserted first and the Backspace erased it instead.
            event.stop()
            event.prevent_default()

    def submit(self) -> None:
        draft = self.draft
        text = draft.expanded()
        if not text.strip():
            return
        self.remember(draft)
        self.post_message(self.Submitted(text))
        self.set_draft(Draft())

    @property
    def draft(self) -> Draft:
        return Draft(self.text, {chip: text for chip, text in self.pastes.items() if chip in self.text})

    def set_draft(self, draft: Draft) -> None:
        self.pastes = dict(draft.pastes)
        self.load_text(draft.text)
        self.move_cursor(self.document.end)
        # A mention the restored text ends with was completed before: offering paths for it again would make
        # Enter pick a path instead of sending.
        if self._mention is not None:
            self.post_message(self.MentionChanged(None))
        self._mention = self._mention_at_cursor()

    def action_newline(self) -> None:
        self.insert("\n")

    # -- mentioning files

    def _mention_at_cursor(self) -> str | None:
        row, column = self.cursor_location
        start = max(0, column - _MENTION_WINDOW)
        before = self.document.get_line(row)[start:column]
        mention = mention_at_cursor(before)
        if mention is not None and start > 0 and len(mention) + 1 == len(before):
            return None  # runs past the window: a long run of path characters, not a file name being typed
        return mention

    @on(TextArea.SelectionChanged)
    def _check_mention(self) -> None:
        mention = self._mention_at_cursor()
        if mention != self._mention:
            self._mention = mention
            self.post_message(self.MentionChanged(mention))

    def complete_mention(self, path: str) -> None:
        """Replace the `@prefix` at the cursor with `@path ` (the space ends the mention, closing the popup)."""
        if self._mention is None:
            return
        row, column = self.cursor_location
        self.replace(f"{path} ", (row, column - len(self._mention)), (row, column))

    # -- pasting

    def _on_paste(self, event: events.Paste) -> None:
        # TextArea's own paste handler runs after this one unless the default is prevented.
        text = event.text.replace("\r\n", "\n").replace("\r", "\n")
        from flashchat.core.attach_inputs import pasted_file

        if (path := pasted_file(text, Path.cwd())) is not None:
            # A terminal pastes a dropped file as its path: attach the file rather than type its name.
            event.prevent_default()
            event.stop()
            self.post_message(self.PathPasted(str(path)))
            return
        if not becomes_chip(text):
            return
        event.prevent_default()
        event.stop()
        number = len(self.pastes) + 1
        chip = chip_label(text, number)
        while chip in self.pastes:
            number += 1
            chip = chip_label(text, number)
        self.pastes[chip] = text
        self.insert(chip)

    def action_expand_pastes(self) -> None:
        draft = self.draft
        if draft.pastes:
            self.set_draft(Draft(draft.expanded()))

    # -- recalling earlier prompts

    def set_history(self, prompts: list[str]) -> None:
        self._history = [draft_for(prompt) for prompt in prompts]
        self._history_position = None

    def remember(self, draft: Draft) -> None:
        self._history.append(Draft(draft.text, dict(draft.pastes)))
        self._history_position = None

    def action_cursor_up(self, select: bool = False) -> None:
        recalling = self._history_position is not None and self.cursor_location[0] == 0
        if not select and self._history and (not self.text or recalling):
            self._recall(-1)
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        on_last_line = self.cursor_location[0] == self.document.line_count - 1
        if not select and self._history_position is not None and on_last_line:
            self._recall(+1)
            return
        super().action_cursor_down(select)

    def _recall(self, step: int) -> None:
        if self._history_position is None:
            self._unsent = self.draft
            position = len(self._history)
        else:
            position = self._history_position
        position = max(0, position + step)
        if position >= len(self._history):
            self._history_position = None
            self.set_draft(self._unsent)
            return
        self._history_position = position
        self.set_draft(self._history[position])
