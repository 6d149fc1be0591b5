"""The attachments of the prompt being written, under the composer before it is sent: a chip per file with
its type, size, token count (countTokens) and cost, the media_resolution of each image, PDF or video (click a
chip, or the action, to change it), a flag for an `@path` that names no file, and the over-limit guard."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual.containers import VerticalGroup

from flashchat.core.media import RESOLUTIONS, MediaAttachment
from flashchat.tui.widgets.attachment_chip import AttachmentChip

if TYPE_CHECKING:
    from flashchat.core.prompt import PreparedPrompt
    from flashchat.core.session import ChatSession


class AttachmentChips(VerticalGroup):
    """What the next send attaches besides `@path` mentions: pasted or dropped paths, clipboard images; and
    the media_resolution chosen per item."""

    DEFAULT_CSS = """
    AttachmentChips {
        height: auto;
        max-height: 8;
        & > AttachmentChip {
            margin: 0 0 0 2;
            height: auto;
            max-width: 100%;
        }
        &.-empty {
            display: none;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="-empty")
        self.paths: list[str] = []  # pasted or dropped files, for `files=`
        self.media: list[MediaAttachment] = []  # clipboard images
        self.resolutions: dict[str, str] = {}
        self._shown_for: tuple[object, ...] | None = None

    def add_path(self, path: str) -> None:
        if path not in self.paths:
            self.paths.append(path)

    def add_media(self, attachment: MediaAttachment) -> None:
        taken = {item.path for item in self.media}
        name, number = attachment.path, 1
        while name in taken:
            number += 1
            name = f"{Path(attachment.path).stem}-{number}{Path(attachment.path).suffix}"
        ref = attachment.ref if name == attachment.path else replace(attachment.ref, name=name)
        self.media.append(MediaAttachment(ref, attachment.source))

    def next_resolution(self, name: str) -> str:
        """Default → low → medium → high → ultra_high → default, for the item called `name`."""
        order = ("", *RESOLUTIONS)
        current = self.resolutions.get(name, "")
        chosen = order[(order.index(current) + 1) % len(order)]
        if chosen:
            self.resolutions[name] = chosen
        else:
            self.resolutions.pop(name, None)
        return chosen or "default"

    def clear(self) -> None:
        self.paths.clear()
        self.media.clear()
        self.resolutions.clear()
        self._shown_for = None
        self.remove_children()
        self.add_class("-empty")

    async def preview(self, session: ChatSession, text: str, *, force: bool = False) -> PreparedPrompt | None:
        """Prepare `text` as the send would (counting tokens) and show its chips; nothing is sent."""
        from flashchat.core.attachments import AttachmentError
        from flashchat.core.attachments import mentions as mentions_in
        from flashchat.core.prompt import prepare_prompt

        root = Path.cwd()
        key = (tuple(mentions_in(text, root)), tuple(self.paths), len(self.media), tuple(self.resolutions.items()))
        if key == self._shown_for and not force:
            return None
        self._shown_for = key
        if not key[0] and not self.paths and not self.media:
            await self.remove_children()
            self.add_class("-empty")
            return None
        try:
            prepared = await prepare_prompt(
                session, text, files=self.paths, media=self.media, resolutions=self.resolutions, root=root
            )
        except AttachmentError as error:
            await self._show([AttachmentChip(f"{error}; it will not be sent", "", problem=True, icon="⚠")])
            return None
        await self._show(self._chips(session, prepared))
        return prepared

    def _chips(self, session: ChatSession, prepared: PreparedPrompt) -> list[AttachmentChip]:
        from flashchat.core.conversation import Usage
        from flashchat.core.costs import estimated_cost
        from flashchat.render.formatting import usd

        over_limit = bool(prepared.warning or prepared.refusal)
        chips = []
        for index, item in enumerate(prepared.attachments):
            tokens = prepared.attachment_tokens[index]
            pieces = []
            if isinstance(item, MediaAttachment):
                pieces.append(item.ref.describe() if item.ref.resolution else f"{item.ref.describe()} · default res")
            pieces.append(prepared.token_label(index))
            cost = estimated_cost(Usage(prompt=tokens), session.settings)
            if cost is not None:
                pieces.append(usd(cost) if cost >= 0.00005 else "<$0.0001")  # never a "$0.0000" that reads as free
            media_name = item.path if isinstance(item, MediaAttachment) and item.ref.kind != "audio" else ""
            icon = "🖼" if isinstance(item, MediaAttachment) and item.ref.kind == "image" else "📎"
            chips.append(
                AttachmentChip(item.path, " · ".join(pieces), over_limit=over_limit, media_name=media_name, icon=icon)
            )
        chips += [
            AttachmentChip(f"@{name}: no such file here (it will be sent as text)", "", problem=True, icon="⚠")
            for name in prepared.missing
        ]
        if prepared.refusal or prepared.warning:
            chips.append(AttachmentChip(prepared.refusal or prepared.warning, "", over_limit=True, icon="⚠"))
        return chips

    async def _show(self, chips: list[AttachmentChip]) -> None:
        await self.remove_children()
        await self.mount_all(chips)
        self.set_class(not chips, "-empty")
