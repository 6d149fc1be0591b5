"""The config's `[keys]` table: which key runs which action, by the action names of `core/commands.py`.

```toml
[keys]
usage = "ctrl+y"          # one key
new_chat = "ctrl+n,f8"    # or several, comma-separated
thoughts = "f9"           # palette-only actions can get a key too
```

Keys are written the Textual way (`ctrl+x`, `alt+x`, `shift+tab`, `f5`, `pageup`, a single character). The
TUI applies them as a Textual keymap; plain mode binds the same names where prompt-toolkit can express the key
(it has no Super or Shift+letter) and the action is a command without required arguments. Each bad entry is
one line in `problems`; the good ones still apply.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flashchat.core.commands import ACTIONS, UserAction

MODIFIERS = ("ctrl", "alt", "shift", "super", "meta")
NAMED_KEYS = frozenset(
    {
        "escape", "enter", "tab", "backspace", "delete", "insert", "home", "end", "pageup", "pagedown",
        "up", "down", "left", "right", "space",
        *(f"f{number}" for number in range(1, 25)),
    }
)  # fmt: skip
_PUNCTUATION_NAMES = {
    "minus": "-", "plus": "+", "comma": ",", "full_stop": ".", "slash": "/", "backslash": "\\",
    "semicolon": ";", "colon": ":", "question_mark": "?", "exclamation_mark": "!", "at": "@",
    "left_square_bracket": "[", "right_square_bracket": "]", "underscore": "_", "equals_sign": "=",
}  # fmt: skip
_ONE_CHARACTER = re.compile(r"^[a-z0-9]$")


@dataclass(frozen=True)
class KeyChoices:
    """The `[keys]` entries that make sense: action name -> Textual key string (comma-separated)."""

    keys: Mapping[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def action_names() -> list[str]:
    return [action.name for action in ACTIONS]


def _action(name: str) -> UserAction | None:
    return next((action for action in ACTIONS if action.name == name), None)


def key_problem(key: str) -> str:
    """Why `key` is not a key flashchat can bind ("" when it is fine)."""
    *modifiers, name = key.split("+")
    if not name:
        return "a key name is missing"
    unknown = [modifier for modifier in modifiers if modifier not in MODIFIERS]
    if unknown:
        return f"unknown modifier {unknown[0]!r} (use {', '.join(MODIFIERS)})"
    if name in NAMED_KEYS or name in _PUNCTUATION_NAMES or _ONE_CHARACTER.match(name):
        return ""
    return f"unknown key {name!r} (use a letter, a digit, f1-f24, or a name such as pageup, escape, tab)"


def read_key_choices(raw: Mapping[str, str], where: str = "[keys]") -> KeyChoices:
    """Check each `[keys]` entry: a known action, and keys that parse. Bad entries become problems."""
    keys: dict[str, str] = {}
    problems: list[str] = []
    for name, value in raw.items():
        action = _action(name)
        if action is None:
            close = difflib.get_close_matches(name, action_names(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{where} {name}: unknown action{hint}; actions: {', '.join(action_names())}")
            continue
        entered = [key.strip().lower() for key in value.split(",")]
        bad = next(((key, why) for key in entered if (why := key_problem(key))), None)
        if bad is not None:
            problems.append(f"{where} {name} = {value!r}: {bad[1]}; nothing changed for {name}")
            continue
        keys[name] = ",".join(entered)
    return KeyChoices(keys, tuple(problems))


def prompt_toolkit_keys(key: str) -> tuple[str, ...] | None:
    """The prompt-toolkit key sequence for a Textual key string, or None when plain mode cannot bind it."""
    *modifiers, name = key.split("+")
    name = _PUNCTUATION_NAMES.get(name, name)
    if name == "space":
        name = " "
    if "super" in modifiers or "meta" in modifiers:
        return None
    base: str
    if "ctrl" in modifiers:
        shift = "shift" in modifiers
        if len(name) == 1 and not shift:
            base = f"c-{name}"
        elif name in NAMED_KEYS and name not in ("escape", "enter", "tab", "backspace", "space"):
            base = f"c-s-{name}" if shift else f"c-{name}"
        else:
            return None
    elif "shift" in modifiers:
        if name in ("tab",):
            base = "s-tab"
        elif name in ("up", "down", "left", "right", "home", "end", "delete", "insert", "pageup", "pagedown"):
            base = f"s-{name}"
        else:
            return None
    else:
        base = name
    return ("escape", base) if "alt" in modifiers else (base,)
