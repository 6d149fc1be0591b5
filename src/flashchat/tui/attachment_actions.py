"""The TUI's attachment actions and the chips under the composer, mixed into FlashchatApp (kept apart so the
app module stays about sending and streaming).

Before a prompt is sent, `AttachmentChips` shows what it will attach, prepared as the send will prepare it;
after it is sent, each image appears as a thumbnail under the prompt and other media as a chip.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.timer import Timer
from textual.widgets import TextArea

from flashchat.core.attach_inputs import last_image
from flashchat.core.media import MediaError, MediaRef
from flashchat.tui.widgets.attachment_chip import AttachmentChip
from flashchat.tui.widgets.attachment_chips import AttachmentChips
from flashchat.tui.widgets.composer import Composer

if TYPE_CHECKING:
    from flashchat.core.prompt import PreparedPrompt
    from flashchat.core.session import ChatSession
    from flashchat.tui.widgets.conversation_view import ConversationView
    from flashchat.tui.widgets.user_message import UserMessage

# Typing pauses this long before the chips are prepared again (each preparation may ask countTokens).
PREVIEW_DELAY_SECONDS = 0.4
OPEN_KEY = "F9"


class AttachmentActions:
    """Mixed into FlashchatApp: `session`, `composer`, `conversation_view`, `notify` and the rest are its."""

    session: ChatSession
    composer: Composer
    conversation_view: ConversationView
    _preview_timer: Timer | None = None

    if TYPE_CHECKING:

        def notify(self, message: str, **kwargs: Any) -> None: ...
        def query_one(self, selector: Any) -> Any: ...
        def query_main_screen(self, selector: Any) -> Any: ...
        def set_timer(self, delay: float, callback: Any) -> Timer: ...
        def push_screen(self, screen: Any, callback: Any = None) -> Any: ...
        def run_worker(self, work: Any, **kwargs: Any) -> Any: ...

    @property
    def attachment_chips(self) -> AttachmentChips:
        return self.query_main_screen(AttachmentChips)

    def prepare_arguments(self) -> dict[str, Any]:
        """What `prepare_prompt` takes from the chips: pasted paths, clipboard images, chosen resolutions."""
        chips = self.attachment_chips
        return {"files": list(chips.paths), "media": list(chips.media), "resolutions": dict(chips.resolutions)}

    # -- the chips, kept up to date while typing

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if not isinstance(event.text_area, Composer):
            return
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY_SECONDS, self.refresh_attachment_chips)

    def refresh_attachment_chips(self, *, force: bool = False) -> None:
        from textual.css.query import NoMatches

        try:
            text = self.composer.text
        except NoMatches:  # the preview timer fired as the app closed
            return
        self.run_worker(self.attachment_chips.preview(self.session, text, force=force), group="chips", exclusive=True)

    def on_composer_path_pasted(self, event: Composer.PathPasted) -> None:
        self.attachment_chips.add_path(event.path)
        self.notify(f"Attached {Path(event.path).name} to the next prompt.", timeout=4)
        self.refresh_attachment_chips()

    def on_attachment_chip_resolution_clicked(self, event: AttachmentChip.ResolutionClicked) -> None:
        chosen = self.attachment_chips.next_resolution(event.name)
        self.notify(f"media_resolution of {event.name}: {chosen}", timeout=3)
        self.refresh_attachment_chips()

    # -- actions (core/commands.py)

    def action_attach_file(self) -> None:
        from flashchat.tui.screens.text_prompt_screen import TextPromptScreen

        def attach(path: str | None) -> None:
            if path:
                self.attachment_chips.add_path(path)
                self.refresh_attachment_chips()

        self.push_screen(TextPromptScreen("Attach a file (a path, relative to the start directory)"), attach)

    async def action_paste_image(self) -> None:
        from flashchat.core.attach_inputs import clipboard_image

        try:
            attachment = await asyncio.to_thread(clipboard_image)
        except MediaError as error:
            self.notify(f"{error}.", severity="warning", timeout=8)
            return
        self.attachment_chips.add_media(attachment)
        self.refresh_attachment_chips()

    def action_cycle_media_resolution(self) -> None:
        chips = [chip for chip in self.attachment_chips.query(AttachmentChip) if chip.media_name]
        if not chips:
            self.notify("No image, PDF or video is attached to the prompt being written.", timeout=4)
            return
        self.on_attachment_chip_resolution_clicked(AttachmentChip.ResolutionClicked(chips[-1].media_name))

    async def action_open_attachment(self) -> None:
        """The conversation's last image full size, inside the app (no viewer process is started)."""
        from flashchat.tui.screens.image_screen import ImageScreen

        found = self._last_image()
        if found is None:
            self.notify("No image in this conversation yet.", timeout=4)
            return
        try:
            data = await asyncio.to_thread(self.session.conversation.media.read, found.sha256)
        except (MediaError, OSError) as error:
            self.notify(f"Could not open {found.name}: {error}", severity="error")
            return
        self.push_screen(ImageScreen(found, data))

    def _last_image(self) -> MediaRef | None:
        return last_image(self.session.conversation)

    # -- after sending

    def clear_attachment_chips(self) -> None:
        self.attachment_chips.clear()

    async def show_sent_attachments(self, prepared: PreparedPrompt, *, after: UserMessage) -> None:
        """A thumbnail per image (half-block cells), a chip per other file, under the prompt that sent them."""
        from flashchat.core.media import MediaAttachment
        from flashchat.tui.widgets.image_thumbnail import ImageThumbnail

        over_limit = bool(prepared.warning)
        widgets = []
        for index, item in enumerate(prepared.attachments):
            label = prepared.token_label(index)
            if isinstance(item, MediaAttachment) and item.ref.kind == "image":
                data = (
                    item.source if isinstance(item.source, bytes) else await asyncio.to_thread(item.source.read_bytes)
                )
                widgets.append(ImageThumbnail(item.ref, data, OPEN_KEY))
            elif isinstance(item, MediaAttachment):
                widgets.append(AttachmentChip(item.path, f"{item.ref.describe()} · {label}", over_limit=over_limit))
            else:
                widgets.append(AttachmentChip(item.path, label, over_limit=over_limit))
        await self.conversation_view.mount_all(widgets, after=after)
