"""The key bar at the bottom: Textual's Footer, without the key widgets it leaks on every rebuild."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    """Textual's `Footer`, which rebuilds its keys whenever the bindings change, minus a leak.

    Each `FooterKey` binds to the footer's `compact` reactive (`data_bind`), which adds a watcher to the
    footer. Textual drops watchers of removed widgets only when `compact` changes, which it never does here,
    so every rebuild (about one per turn: focus moves and `replying` flips) kept the 15 old keys alive with
    their styles and render caches: 219 detached keys after 15 turns, found with gc referrer chains
    (bench/tui.py --only long-session).

    And minus two style passes per key per rebuild: a `FooterKey` starts `compact=True`, so each new key added
    the "-compact" class when mounted and removed it again when the binding to the footer's False arrived,
    every change a stylesheet pass over the key (66 of them, a third of the CPU between the first frame and a
    reopened conversation's paint, cProfile). Keys bound to the footer start with the footer's value instead.
    """

    def compose(self) -> ComposeResult:
        for widget in super().compose():  # keys in a group are yielded one by one too
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):  # that one is not bound
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    async def recompose(self) -> None:
        await super().recompose()
        watchers = getattr(self, "__watchers", None)  # where Textual's reactive.py keeps them
        if isinstance(watchers, dict):
            for name, bound in watchers.items():
                watchers[name] = [(node, callback) for node, callback in bound if getattr(node, "is_attached", True)]
