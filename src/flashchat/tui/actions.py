"""The TUI's key bindings, generated from the one action table in `flashchat.core.commands`."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from flashchat.core.commands import ACTIONS, TuiBinding, UserAction


def tui_actions() -> list[tuple[UserAction, TuiBinding]]:
    """Every action the TUI offers, with how it offers it, in table order."""
    return [(action, action.tui) for action in ACTIONS if action.tui is not None]


def bindings() -> list[BindingType]:
    return [
        Binding(
            tui.key,
            tui.action,
            tui.footer or action.title,
            show=bool(tui.footer),
            priority=tui.priority,
            id=tui.action,
        )
        for action, tui in tui_actions()
        if tui.key
    ]
