"""The TUI's key bindings, generated from the one action table in `flashchat.core.commands`, and the config's
`[keys]` choices applied to them as a Textual keymap (binding id = the binding's action string)."""

from __future__ import annotations

from collections.abc import Mapping

from textual.binding import Binding, BindingType

from flashchat.core.commands import ACTIONS, TuiBinding, UserAction


def tui_actions() -> list[tuple[UserAction, TuiBinding]]:
    """Every action the TUI offers, with how it offers it, in table order."""
    return [(action, action.tui) for action in ACTIONS if action.tui is not None]


def bindings() -> list[BindingType]:
    return [_binding(action, tui, tui.key) for action, tui in tui_actions() if tui.key]


def _binding(action: UserAction, tui: TuiBinding, key: str) -> Binding:
    return Binding(
        key, tui.action, tui.footer or action.title, show=bool(tui.footer), priority=tui.priority, id=tui.action
    )


def keymap(chosen: Mapping[str, str]) -> dict[str, str]:
    """Binding id -> keys, for the chosen actions that have a default key (Textual's `App.set_keymap`)."""
    return {tui.action: chosen[action.name] for action, tui in tui_actions() if tui.key and action.name in chosen}


def added_bindings(chosen: Mapping[str, str]) -> list[Binding]:
    """Bindings for palette-only actions the config gave a key: a keymap can only move existing bindings."""
    return [
        _binding(action, tui, chosen[action.name])
        for action, tui in tui_actions()
        if not tui.key and action.name in chosen
    ]


def effective_key(action: UserAction, tui: TuiBinding, chosen: Mapping[str, str]) -> str:
    """The key that runs `action` now ("" for palette only), as F1 lists it."""
    return chosen.get(action.name, tui.key)
