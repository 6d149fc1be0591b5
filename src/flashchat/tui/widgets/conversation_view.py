"""The scrolling conversation: a bounded number of live widgets, however long the chat gets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import events, work
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from flashchat.core.conversation import Message
from flashchat.render.formatting import count
from flashchat.tui.widgets.tool_call_notice import ToolCallNotice
from flashchat.tui.widgets.user_message import UserMessage

if TYPE_CHECKING:
    # Imported where a reply is first needed (see _reply_classes).
    from flashchat.tui.widgets.reply_segment import ReplySegment
    from flashchat.tui.widgets.reply_view import ReplyView

MOUNT_BATCH = 16  # messages mounted when a conversation opens, and each time the user scrolls to the top
MAX_MOUNTED = 64  # past this many message widgets, the oldest are unmounted (they stay in the conversation)
# Opening a stored conversation paints the messages that fill the view first, then mounts the rest of the
# batch above them: each reply builds its Markdown blocks, and all 16 at once held the first paint of a
# 2,000-message conversation back by the time the 12 the user cannot see yet took to build.
FIRST_PAINT_WAIT = 0.5  # seconds, at most, that the rest of the batch waits for that paint
PARK_DELAY = 0.1  # seconds between a scroll and re-deciding which segments to park
PARK_INTERVAL = 0.25  # and how often to re-decide anyway: the view pins itself to the bottom without "scrolling"


def _reply_classes() -> tuple[type[ReplyView], type[ReplySegment]]:
    """The reply widgets, imported on first use: with them come markdown-it, pygments and Textual's Markdown
    (about a sixth of the app's imports), which the first frame of an empty chat does not need. The app
    imports them in its warm-up thread right after that frame."""
    from flashchat.tui.widgets.reply_segment import ReplySegment
    from flashchat.tui.widgets.reply_view import ReplyView

    return ReplyView, ReplySegment


def message_widget(message: Message) -> Widget:
    if message.answers_tool_calls:
        # Written by the session, not typed by the user: shown like the live tool-call lines.
        return ToolCallNotice(None, stored_summary=message.text.strip("[]"))
    if message.role == "user":
        # A stored prompt's attachments are named under it (F9 opens the last image full size).
        attached = "".join(f"\n📎 {ref.name} · {ref.describe()}" for ref in message.media)
        return UserMessage(message.text + attached)
    reply_view, _ = _reply_classes()
    return reply_view(model=message.model, thinking_level=message.thinking_level, message=message)


def _backed_by_a_message(widget: Widget) -> bool:
    if isinstance(widget, ToolCallNotice):
        return widget.stands_for_a_stored_message
    reply_view, _ = _reply_classes()
    return isinstance(widget, UserMessage) or (isinstance(widget, reply_view) and widget.message is not None)


class ConversationView(VerticalScroll, can_focus=False):
    """User messages and replies, pinned to the bottom while a reply streams unless the user scrolled up.

    Textual's compositor visits every displayed widget on every frame, so this view keeps that number small:
    - a conversation opens with only its last `MOUNT_BATCH` messages; scrolling to the top mounts earlier
      ones, and past `MAX_MOUNTED` the oldest are unmounted again;
    - reply segments more than a screen away from the viewport are parked (they keep their height and text
      and unmount their Markdown blocks), and drawn again when the user scrolls near them.
    """

    DEFAULT_CSS = """
    ConversationView {
        height: 1fr;
        scrollbar-size-vertical: 1;
        & > .earlier {
            color: $text-muted;
            text-align: center;
            width: 1fr;
            margin: 1 0 0 0;
        }
        & > .empty-hint {
            color: $text-muted;
            margin: 2 4;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._messages: Sequence[Message] = ()
        self._first_mounted = 0  # index in _messages of the first mounted message widget
        self._park_timer_running = False
        self._loading_earlier = False
        self._laid_out_width = 0
        self._parked_for: tuple[object, ...] = ()  # the layout the last parking pass decided on

    def on_mount(self) -> None:
        self.anchor()
        self.set_interval(PARK_INTERVAL, self._park_far_segments)

    @property
    def following(self) -> bool:
        """True while the view sticks to the bottom; False once the user scrolled up to read."""
        return self.is_anchored and not self._anchor_released

    # -- content

    async def show_messages(
        self, messages: Sequence[Message], *, empty_hint: str = "", paint_first: bool = False
    ) -> None:
        """Replace the view with `messages` (a live list: the session appends to it), showing the last few.

        With `paint_first` (opening a conversation once the app is up), the messages that fill the view are
        painted before the rest of the batch is mounted above them."""
        self._messages = messages
        batch_start = max(0, len(messages) - MOUNT_BATCH)
        self._first_mounted = self._first_screenful(messages, batch_start) if paint_first else batch_start
        widgets = [message_widget(message) for message in messages[self._first_mounted :]]
        with self.app.batch_update():
            await self.remove_children()
            await self.mount(Static(classes="earlier"))
            if not messages and empty_hint:
                await self.mount(Static(Content(empty_hint), classes="empty-hint"))
            await self.mount_all(widgets)
        self._update_earlier_label()
        self.anchor()
        if self._first_mounted > batch_start:
            await self._mount_rest_of_batch(messages, batch_start)

    def _first_screenful(self, messages: Sequence[Message], batch_start: int) -> int:
        """Index of the earliest message needed to fill the view from the bottom, by an estimate of lines that
        errs towards more messages (rendered Markdown is rarely shorter than its wrapped text)."""
        width = max(20, self.size.width - 4)
        rows = self.size.height or 40
        lines = 0
        index = len(messages)
        while index > batch_start and lines < rows:
            index -= 1
            text = messages[index].text
            lines += 2 + text.count("\n") + len(text) // width
        return index

    def earlier_messages_added(self, messages: Sequence[Message], count: int) -> None:
        """`count` messages went in front of `messages` (a long conversation opened from its end, the rest read
        afterwards): the mounted ones moved down by that many, and scrolling up now reaches the new ones."""
        if messages is not self._messages or not count:
            return
        self._first_mounted += count
        self._update_earlier_label()
        if self.scroll_y <= 0 and self.max_scroll_y > 0 and not self._loading_earlier:
            self.load_earlier()  # already at the top: no scroll would ask for them

    async def _mount_rest_of_batch(self, messages: Sequence[Message], batch_start: int) -> None:
        first_shown = self._first_mounted
        self._loading_earlier = True  # scrolling up meanwhile must not mount these a second time
        try:
            painted = asyncio.Event()
            self.call_after_refresh(painted.set)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(painted.wait(), FIRST_PAINT_WAIT)
            if self._messages is not messages or self._first_mounted != first_shown or not self.is_attached:
                return  # another conversation was shown meanwhile, or the view was pruned
            widgets = [message_widget(message) for message in messages[batch_start:first_shown]]
            self._first_mounted = batch_start
            await self.mount_all(widgets, after=self.query_one(".earlier"))
            self._update_earlier_label()
        finally:
            self._loading_earlier = False

    async def add_user_message(self, text: str) -> UserMessage:
        await self._remove_empty_hint()
        widget = UserMessage(text)
        await self.mount(widget)
        self.anchor()  # sending is a request to see the answer: follow it even if the user had scrolled up
        return widget

    async def add_reply(self, *, model: str, thinking_level: str) -> ReplyView:
        reply_view, _ = _reply_classes()
        widget = reply_view(model=model, thinking_level=thinking_level)
        await self.mount(widget)
        return widget

    async def remove_from(self, widget: Widget) -> None:
        """Unmount `widget` and everything after it (for regenerate and edit-last-prompt)."""
        children = list(self.children)
        if widget in children:
            await self.remove_children(children[children.index(widget) :])

    @property
    def earlier_not_mounted(self) -> int:
        """How many messages above the first mounted one are not mounted (scrolling to the top loads them)."""
        return self._first_mounted

    @property
    def message_widgets(self) -> list[Widget]:
        reply_view, _ = _reply_classes()
        return [child for child in self.children if isinstance(child, (UserMessage, reply_view))]

    async def prune(self) -> None:
        """Unmount the oldest message widgets past MAX_MOUNTED, unless the user is reading up there."""
        widgets = self.message_widgets
        excess = len(widgets) - MAX_MOUNTED
        if excess <= 0 or not self.following:
            return
        cut = excess + MOUNT_BATCH // 2
        children = list(self.children)
        first_kept = children.index(widgets[cut]) if cut < len(widgets) else len(children)
        # Everything above the first kept message goes: tool-call lines, sources and chips too, not just messages.
        doomed = [
            child
            for child in children[:first_kept]
            if not child.has_class("earlier") and not child.has_class("empty-hint")
        ]
        self._first_mounted += sum(1 for widget in doomed if _backed_by_a_message(widget))
        await self.remove_children(doomed)
        self._update_earlier_label()

    async def _remove_empty_hint(self) -> None:
        await self.query_children(".empty-hint").remove()

    def _update_earlier_label(self) -> None:
        label = self.query_one(".earlier", Static)
        hidden = self._first_mounted
        label.display = hidden > 0
        noun = "message" if hidden == 1 else "messages"
        label.update(f"▲ {count(hidden)} earlier {noun}: scroll up to load them")

    @work(exclusive=True, group="load-earlier")
    async def load_earlier(self) -> None:
        """Mount the previous batch above the first mounted message, keeping what the user sees in place."""
        if self._first_mounted == 0:
            return
        start = max(0, self._first_mounted - MOUNT_BATCH)
        widgets = [message_widget(message) for message in self._messages[start : self._first_mounted]]
        height_before = self.virtual_size.height
        self._first_mounted = start
        await self.mount_all(widgets, after=self.query_one(".earlier"))
        self._update_earlier_label()

        def keep_position() -> None:
            grown = self.virtual_size.height - height_before
            self.scroll_to(y=self.scroll_y + grown, animate=False, immediate=True)

        self.call_after_refresh(keep_position)

    # -- parking segments that are far off-screen

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.schedule_parking()
        if new_value <= 0 and self._first_mounted > 0 and self.max_scroll_y > 0 and not self._loading_earlier:
            self.load_earlier()

    def on_resize(self, event: events.Resize) -> None:
        # Parked heights were measured at the old width: let every segment lay itself out again. Only the
        # width matters: the view gets shorter each time the composer grows a line, and unparking a long
        # reply for that stalled the app for 200-400 ms.
        if event.size.width != self._laid_out_width:
            self._laid_out_width = event.size.width
            for segment in self._segments():
                segment.unpark()
        self.schedule_parking()

    def schedule_parking(self) -> None:
        if not self._park_timer_running:
            self._park_timer_running = True
            self.set_timer(PARK_DELAY, self._park_far_segments)

    def _segments(self) -> list[ReplySegment]:
        if len(self.children) <= 2:  # the "earlier" label and the empty hint: no replies (nor their import)
            return []
        reply_view, reply_segment = _reply_classes()
        # Plain isinstance over the children, not a query: this runs 4 times a second even when the app is idle,
        # and two nested queries (CSS matching per node) were most of the idle app's CPU (cProfile, 30 turns).
        return [
            segment
            for reply in self.children
            if isinstance(reply, reply_view)
            for segment in reply.children
            if isinstance(segment, reply_segment)
        ]

    def _park_far_segments(self) -> None:
        self._park_timer_running = False
        view = self.region
        if not view.height:
            return
        segments = self._segments()
        # Where everything sits: if none of it moved since the last pass, neither did the answer. An idle app
        # then costs no more than this check 4 times a second.
        layout = (view, self.scroll_offset, self.virtual_size, len(segments), sum(s.streaming for s in segments))
        if layout == self._parked_for:
            return
        near_top, near_bottom = view.y - view.height, view.bottom + view.height
        settled = True
        for segment in segments:
            region = segment.region
            near = region.y < near_bottom and region.bottom > near_top
            if near:
                segment.unpark()
            else:
                segment.park()
            settled = settled and segment.parked != near  # a segment still streaming or restoring said no
        self._parked_for = layout if settled else ()
