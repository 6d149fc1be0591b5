"""Markdown lists that grow in place while a reply streams, instead of being rebuilt on every append."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock

# Textual exports its block classes only through this mapping (the documented way to replace them).
MarkdownBulletList: Any = Markdown.BLOCKS["bullet_list_open"]
MarkdownOrderedList: Any = Markdown.BLOCKS["ordered_list_open"]
MarkdownParagraph: Any = Markdown.BLOCKS["paragraph_open"]
MarkdownListItem: Any = Markdown.BLOCKS["list_item_unordered_open"].__base__


class StreamedList(MarkdownBlock):
    """The update behaviour of `StreamedBulletList` and `StreamedOrderedList`.

    Textual re-parses the last block of a streaming Markdown widget on every append and, for a list, removes
    the mounted list and mounts the new one: every item, four widgets each, styled, laid out and painted
    again, ten times a second. While a list was on screen one screen update in six took over 40 ms
    (bench/tui.py, paced run). Text only ever arrives at the end, so the items before the last one cannot
    have changed: this keeps them, updates the last item's last paragraph in place (or replaces that one
    item when more than a paragraph changed), and mounts the items that are new. The rows built here are
    the ones Textual's `compose` builds, so a streamed list looks the same as one rendered whole.
    """

    def bullet_symbols(self, items: list[Any]) -> list[str]:
        return [item.bullet for item in items]

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        rows = list(self.query_children(Horizontal))
        items = [child for child in block._blocks if isinstance(child, MarkdownListItem)]
        if type(block) is not type(self) or not rows or len(items) < len(rows) or len(items) != len(block._blocks):
            await super()._update_from_block(block)
            return
        self._copy_context(block)
        symbols = self.bullet_symbols(items)
        for row, symbol in zip(rows, symbols, strict=False):
            bullet: Any = row.children[0]  # Textual's MarkdownBullet, which it does not export
            if bullet.symbol != symbol:
                # An ordered list's numbers are right-aligned: item 10 widens every bullet before it.
                bullet.symbol = symbol
                bullet.refresh(layout=True)
        kept = len(rows)
        bullet_type = type(rows[0].children[0])  # Textual's MarkdownBullet, which it does not export
        await self._update_row(rows[-1], items[kept - 1], lambda: _row(bullet_type, items[kept - 1], symbols[kept - 1]))
        new_items = zip(items[kept:], symbols[kept:], strict=True)
        if new_rows := [_row(bullet_type, item, symbol) for item, symbol in new_items]:
            await self.mount_all(new_rows)
        block._blocks.clear()

    async def _update_row(self, row: Horizontal, item: Any, rebuilt: Callable[[], Horizontal]) -> None:
        column = row.query_one(Vertical)
        shown = list(column.children)
        arrived = item._blocks
        same_shape = len(arrived) >= len(shown) > 0 and all(
            type(old) is type(new) for old, new in zip(shown, arrived, strict=False)
        )
        last: Any = shown[-1] if shown else None
        if same_shape and isinstance(last, MarkdownParagraph):
            await last._update_from_block(arrived[len(shown) - 1])
            if extra := arrived[len(shown) :]:
                await column.mount_all(extra)
            return
        await self.mount(rebuilt(), after=row)
        await row.remove()


def _row(bullet_type: type[Widget], item: Any, symbol: str) -> Horizontal:
    """One item as Textual's list `compose` lays it out: the bullet beside a column of the item's blocks."""
    bullet: Any = bullet_type()
    bullet.symbol = symbol
    return Horizontal(bullet, Vertical(*item._blocks))


# Textual's class comes first: a widget's default CSS is gathered along its first base classes only, and
# the list's rules (rows as tall as their text) live there.
class StreamedBulletList(MarkdownBulletList, StreamedList):
    pass


class StreamedOrderedList(MarkdownOrderedList, StreamedList):
    def bullet_symbols(self, items: list[Any]) -> list[str]:
        # As MarkdownOrderedList.compose numbers them: from the first item's number, right-aligned.
        try:
            start = int(items[0].bullet) if items else 1
        except ValueError:
            start = 1
        labels = [f"{number}. " for number in range(start, start + len(items))]
        width = max(map(len, labels), default=0)
        return [label.rjust(width + 1) for label in labels]
