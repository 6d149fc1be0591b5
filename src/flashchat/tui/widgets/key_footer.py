"""The key bar at the bottom: Textual's Footer, without the key widgets it leaks on every rebuild."""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's `Footer`, which rebuilds its keys whenever the bindings change, minus a leak.

    Each `FooterKey` binds to the footer's `compact` reactive (`data_bind`), which adds a watcher to the
    footer. Textual drops watchers of removed widgets only when `compact` changes, which it never does here,
    so every rebuild (about one per turn: focus moves and `replying` flips) kept the 15 old keys alive with
    their styles and render caches: 219 detached keys after 15 turns, found with gc referrer chains
    (bench/tui.py --only long-session).
    """

    async def recompose(self) -> None:
        await super().recompose()
        watchers = getattr(self, "__watchers", None)  # where Textual's reactive.py keeps them
        if isinstance(watchers, dict):
            for name, bound in watchers.items():
                watchers[name] = [(node, callback) for node, callback in bound if getattr(node, "is_attached", True)]
