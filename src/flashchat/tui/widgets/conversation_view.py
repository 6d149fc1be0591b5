"""The scrolling conversation: a bounded number of live widgets, however long the chat gets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from textual import events
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.layout import DockArrangeResult
from textual.reactive import Reactive
from textual.scrollbar import ScrollBar
from textual.widget import Widget
from textual.widgets import Static

from flashchat.core.conversation import Message
from flashchat.render.formatting import count
from flashchat.tui.widgets.tool_call_notice import ToolCallNotice
from flashchat.tui.widgets.user_message import UserMessage

if TYPE_CHECKING:
    # Imported where a reply is first needed (see _reply_classes).
    from flashchat.render.markdown_lines import MarkdownStyles
    from flashchat.tui.widgets.reply_segment import ReplySegment
    from flashchat.tui.widgets.reply_view import ReplyView

MOUNT_BATCH = 16  # messages mounted when a conversation opens (and by Home and End in a long one)
MAX_MOUNTED = 64  # while the view follows the bottom, past this many message widgets the oldest are unmounted
# Reading through a long conversation moves a window of mounted messages with the reader: a few messages at a time
# are mounted ahead of the viewport (one small step per frame, so no key waits on a big batch), and the ones that
# fell far behind are unmounted again.
WINDOW_STEP = 4  # messages mounted (or unmounted) per step
LOAD_AHEAD_SCREENS = 2  # mount more while less than this many screens of mounted messages lie ahead of the reader
KEEP_BEHIND_SCREENS = 2  # and unmount what lies more than this many screens behind (a step further than ahead: no
# remounting what was just unmounted when the reader turns round)
# Opening a stored conversation paints the messages that fill the view first, then mounts the rest of the
# batch above them: each reply renders its Markdown, and all 16 at once held the first paint of a
# 2,000-message conversation back by the time the 12 the user cannot see yet took to build.
FIRST_PAINT_WAIT = 0.5  # seconds, at most, that the rest of the batch waits for that paint
# The window mounts while less than LOAD_AHEAD_SCREENS lie ahead, a step at a time: the step's last replies land
# farther out (a step of 400-token replies is about two screens). Parked there, each was rendered on mount, parked,
# and rendered again as the reader came near: 1 render in 3 while paging up a 2,000-message chat (bench/tui.py).
PARK_BEYOND_SCREENS = LOAD_AHEAD_SCREENS + 2
PARK_DELAY = 0.1  # seconds between a scroll and re-deciding which segments to park
PARK_INTERVAL = 0.25  # and how often to re-decide anyway: the view pins itself to the bottom without "scrolling"
# The replies the next window step will mount are rendered ahead (tui/lines_ahead.py), one segment per timer tick,
# so a key pressed meanwhile waits for one segment at most; the step's frame then only lays out their lines.
RENDER_AHEAD_DELAY = 0.01  # seconds between a finished window step (or a rendered segment) and the next segment


def _reply_classes() -> tuple[type[ReplyView], type[ReplySegment]]:
    """The reply widgets, imported on first use: with them come markdown-it, pygments and Rich's Markdown
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


def _is_message_widget(widget: Widget) -> bool:
    """A widget the window counts: a prompt, a reply, or a stored tool-call line."""
    reply_view, _ = _reply_classes()
    return isinstance(widget, (UserMessage, reply_view)) or (
        isinstance(widget, ToolCallNotice) and widget.stands_for_a_stored_message
    )


def _is_label(widget: Widget) -> bool:
    """The view's own lines: the "earlier" and "later" labels and the empty chat's hint."""
    return widget.has_class("earlier") or widget.has_class("later") or widget.has_class("empty-hint")


def _backed_by_a_message(widget: Widget) -> bool:
    if isinstance(widget, ToolCallNotice):
        return widget.stands_for_a_stored_message
    reply_view, _ = _reply_classes()
    return isinstance(widget, UserMessage) or (isinstance(widget, reply_view) and widget.message is not None)


class ConversationView(VerticalScroll, can_focus=False):
    """User messages and replies, pinned to the bottom while a reply streams unless the user scrolled up.

    Textual's compositor visits every displayed widget on every frame, so this view keeps that number small:
    - a conversation opens with only its last `MOUNT_BATCH` messages;
    - while the user reads, a window of about five screens of messages moves with them: messages are
      mounted a few at a time ahead of the viewport (up or down) and unmounted far behind it, and whatever is
      mounted or unmounted above the viewport, what the user sees stays where it is (see `arrange`). Labels
      at either end say how many messages are not mounted. Home and End jump to the conversation's ends.
      The scrollbar measures the mounted window, not the whole chat: its heights are exact (an estimate for
      2,000 unmounted replies would make the thumb wander as they mount), and the labels tell the rest;
    - reply segments farther from the viewport than the window loads ahead are parked (they keep their height and text
      and drop their rendered lines), and drawn again when the user scrolls near them.
    """

    DEFAULT_CSS = """
    ConversationView {
        height: 1fr;
        scrollbar-size-vertical: 1;
        & > .earlier, & > .later {
            color: $text-muted;
            text-align: center;
            width: 1fr;
            margin: 1 0 0 0;
        }
        & > .later {
            margin: 1 0 1 0;
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
        # While the bottom of the conversation is not mounted (the user reads far up): index in _messages after
        # the last mounted message, and how many messages the conversation had when the bottom was unmounted
        # (a new turn jumps back to the end first; its messages are mounted by the app as they come).
        self._end_mounted: int | None = None
        self._known_messages = 0
        self._last_arrangement: DockArrangeResult | None = None
        self._window_lock = asyncio.Lock()
        self._window_moving = False
        self._unplaced_steps = 0
        self._front_added = 0  # messages put in front of the live list since it was shown (tail-first open)
        self._rendering_ahead = False
        self._reading_up = True  # the way the reader last scrolled: its side's messages are rendered ahead first

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
        async with self._window_lock:  # a window step for the conversation shown before must not land in this one
            self._messages = messages
            self._end_mounted = None
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
        afterwards): every index the window keeps moved by that many, and scrolling up now reaches the new ones."""
        if messages is not self._messages or not count:
            return
        self._first_mounted += count
        self._front_added += count
        if self._end_mounted is not None:
            self._end_mounted += count
            self._known_messages += count
        self._update_earlier_label()
        if self.scroll_y <= 0 and not self._loading_earlier:
            self._move_window()  # already at the top: no scroll would ask for them

    async def _mount_rest_of_batch(self, messages: Sequence[Message], batch_start: int) -> None:
        first_shown, added_before = self._first_mounted, self._front_added
        self._loading_earlier = True  # scrolling up meanwhile must not mount these a second time
        try:
            painted = asyncio.Event()
            self.call_after_refresh(painted.set)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(painted.wait(), FIRST_PAINT_WAIT)
            # The rest of a tail-first open may have gone in front meanwhile: the same messages, further down.
            shift = self._front_added - added_before
            batch_start, first_shown = batch_start + shift, first_shown + shift
            if self._messages is not messages or self._first_mounted != first_shown or not self.is_attached:
                return  # another conversation was shown meanwhile, or the view was pruned
            widgets = [message_widget(message) for message in messages[batch_start:first_shown]]
            self._first_mounted = batch_start
            await self.mount_all(widgets, after=self.query_one(".earlier"))
            self._update_earlier_label()
        finally:
            self._loading_earlier = False

    async def add_user_message(self, text: str) -> UserMessage:
        await self.show_end()
        await self._remove_empty_hint()
        widget = UserMessage(text)
        await self.mount(widget)
        self.anchor()  # sending is a request to see the answer: follow it even if the user had scrolled up
        return widget

    async def add_reply(self, *, model: str, thinking_level: str) -> ReplyView:
        reply_view, _ = _reply_classes()
        await self.show_end()
        widget = reply_view(model=model, thinking_level=thinking_level)
        await self.mount(widget)
        return widget

    async def remove_from(self, widget: Widget) -> None:
        """Unmount `widget` and everything after it (for regenerate and edit-last-prompt, which call `show_end`
        first: they act on the last widgets)."""
        children = list(self.children)
        if widget in children:
            await self.remove_children(children[children.index(widget) :])

    @property
    def earlier_not_mounted(self) -> int:
        """How many messages above the first mounted one are not mounted (scrolling to the top loads them)."""
        return self._first_mounted

    @property
    def later_not_mounted(self) -> int:
        """How many messages below the last mounted one are not mounted (scrolling down or End loads them)."""
        return 0 if self._end_mounted is None else max(0, self._known_messages - self._end_mounted)

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

    async def _update_later_label(self) -> None:
        hidden = self.later_not_mounted
        labels = self.query_children(".later")
        if not hidden:
            await labels.remove()
            return
        noun = "message" if hidden == 1 else "messages"
        text = f"▼ {count(hidden)} later {noun}: scroll down or press End to load them"
        if labels:
            labels.first(Static).update(text)
        else:
            await self.mount(Static(text, classes="later"))

    # -- the window of mounted messages that moves with the reader

    def arrange(self, size: Size, optimal: bool = False) -> DockArrangeResult:
        """Lay out the messages, and while the user reads (not following the bottom) keep the message at the top
        of the viewport where it was on screen: when messages are mounted or unmounted above it, or a reply above
        it changes height, the scroll offset moves by as much as that message moved.

        This runs inside the compositor's reflow, before it places anything with the scroll offset (as Textual's
        own bottom anchor does): correcting the offset after the frame would paint the jump first."""
        arrangement = super().arrange(size, optimal)
        previous, self._last_arrangement = self._last_arrangement, arrangement
        if optimal or previous is None or previous is arrangement or self.following:
            return arrangement
        top = self.scroll_y
        anchor = next(
            (
                placement
                for placement in previous.placements
                if placement.region.bottom > top and not placement.widget.has_class("earlier")
            ),
            None,
        )
        if anchor is None:
            return arrangement
        moved_to = next((p.region.y for p in arrangement.placements if p.widget is anchor.widget), None)
        if moved_to is not None and moved_to != anchor.region.y:
            scroll_y = max(0.0, top + moved_to - anchor.region.y)
            # Without watchers or validation (the virtual size is not updated yet), as the compositor's bottom
            # anchor does; the scrollbar is redrawn with the new virtual size.
            self.set_reactive(cast(Reactive[float], Widget.scroll_y), scroll_y)
            self.set_reactive(cast(Reactive[float], Widget.scroll_target_y), scroll_y)
            self.vertical_scrollbar.set_reactive(cast(Reactive[float], ScrollBar.position), scroll_y)
        return arrangement

    def _check_anchor(self) -> None:
        # Reaching the bottom of the window is not reaching the end of the conversation: follow only there.
        if self._end_mounted is None:
            super()._check_anchor()

    def _move_window(self) -> None:
        if not self._window_moving and self._messages:
            self._window_moving = True
            self.run_worker(self._keep_moving_window(), group="message-window")

    async def _keep_moving_window(self) -> None:
        """One small step per frame until the window is where the reader needs it."""
        try:
            while self.is_attached and await self._window_step():
                painted = asyncio.Event()
                self.call_after_refresh(painted.set)
                await painted.wait()
        finally:
            self._window_moving = False
            self._render_ahead_soon()

    def _placed_messages(self) -> list[tuple[Widget, int, int]] | None:
        """The mounted message widgets with their top and bottom rows in the view; None until the last of them
        has been laid out."""
        arrangement = self._last_arrangement
        widgets = self.message_widgets_and_notices()
        if arrangement is None or not widgets:
            return None
        regions = {placement.widget: placement.region for placement in arrangement.placements}
        if any(widget not in regions for widget in (widgets[0], widgets[-1])):
            return None
        # A widget inside the window not laid out yet (display: none) counts as empty, where its neighbour ends.
        placed: list[tuple[Widget, int, int]] = []
        for widget in widgets:
            region = regions.get(widget)
            row = placed[-1][2] if placed else 0
            placed.append((widget, region.y, region.bottom) if region else (widget, row, row))
        return placed

    async def _window_step(self) -> bool:
        """Mount or unmount one step of messages at the window's edges; False when there is nothing to do."""
        async with self._window_lock:
            if self._loading_earlier or not self.is_attached:
                return False
            placed = self._placed_messages()
            height = self.scrollable_content_region.height
            if placed is None or not height:
                self._unplaced_steps += 1
                return self._unplaced_steps < 20  # the layout is catching up: look again after the next frame
            self._unplaced_steps = 0
            top, bottom = round(self.scroll_y), round(self.scroll_y) + height
            ahead_above, ahead_below = top - placed[0][1], placed[-1][2] - bottom
            if self._first_mounted > 0 and ahead_above < LOAD_AHEAD_SCREENS * height:
                await self._mount_earlier()
                return True
            if self.later_not_mounted and ahead_below < LOAD_AHEAD_SCREENS * height:
                await self._mount_later()
                return True
            if self.following or len(placed) <= 2 * WINDOW_STEP:
                return False
            # Unmount a step of what lies far behind the reader: every widget mounted costs the compositor time on
            # every frame, and a screenful viewed is a screenful's widgets, however long the chat.
            keep = KEEP_BEHIND_SCREENS * height
            below_is_far = placed[-WINDOW_STEP - 1][2] - bottom > keep  # still far once the step below is gone
            above_is_far = top - placed[WINDOW_STEP][1] > keep
            if below_is_far and (ahead_below >= ahead_above or not above_is_far) and self._bottom_can_go(placed):
                return await self._unmount_below()
            if above_is_far:
                return await self._unmount_above()
            return False

    async def _mount_earlier(self) -> None:
        start = max(0, self._first_mounted - WINDOW_STEP)
        widgets = [message_widget(message) for message in self._messages[start : self._first_mounted]]
        self._first_mounted = start
        await self.mount_all(widgets, after=self.query_one(".earlier"))
        self._update_earlier_label()

    async def _mount_later(self) -> None:
        assert self._end_mounted is not None
        end = min(self._known_messages, self._end_mounted + WINDOW_STEP)
        widgets = [message_widget(message) for message in self._messages[self._end_mounted : end]]
        label = self.query_children(".later")
        if label:
            await self.mount_all(widgets, before=label.first())
        else:
            await self.mount_all(widgets)
        self._end_mounted = end
        if end >= self._known_messages:
            self._end_mounted = None  # the bottom is back: reaching it resumes following
        await self._update_later_label()

    def _bottom_can_go(self, placed: list[tuple[Widget, int, int]]) -> bool:
        children = list(self.children)
        return not self._streaming_at_the_bottom(children[children.index(placed[-WINDOW_STEP][0]) :])

    def _streaming_at_the_bottom(self, children: list[Widget] | None = None) -> bool:
        """A reply still streaming (or a tool call waiting) at the bottom stays: the app is writing to it."""
        reply_view, _ = _reply_classes()
        for child in list(self.children)[-8:] if children is None else children:
            if isinstance(child, reply_view) and (child.message is None or any(s.streaming for s in child.segments)):
                return True
            if isinstance(child, ToolCallNotice) and not child.stands_for_a_stored_message:
                return True
        return False

    async def _unmount_below(self) -> bool:
        widgets = self.message_widgets_and_notices()
        cut = len(widgets) - WINDOW_STEP
        children = list(self.children)
        doomed = [child for child in children[children.index(widgets[cut]) :] if not child.has_class("later")]
        if self._end_mounted is None:
            self._known_messages = len(self._messages)
        kept_backed = sum(1 for widget in widgets[:cut] if _backed_by_a_message(widget))
        self._end_mounted = self._first_mounted + kept_backed
        await self._remove_from_window(doomed)
        await self._update_later_label()
        return True

    async def _unmount_above(self) -> bool:
        widgets = self.message_widgets_and_notices()
        children = list(self.children)
        first_kept = children.index(widgets[WINDOW_STEP])
        doomed = [child for child in children[:first_kept] if not _is_label(child)]
        self._first_mounted += sum(1 for widget in doomed if _backed_by_a_message(widget))
        await self._remove_from_window(doomed)
        self._update_earlier_label()
        return True

    async def _remove_from_window(self, doomed: list[Widget]) -> None:
        # Their rendered lines dropped first, as parking did when it still reached the replies the window mounted
        # ahead: what the removal leaves to the garbage collector is then about their text.
        reply_view, _ = _reply_classes()
        for widget in doomed:
            if isinstance(widget, reply_view):
                for segment in widget.segments:
                    segment.park()
        await self.remove_children(doomed)

    def message_widgets_and_notices(self) -> list[Widget]:
        return [child for child in self.children if _is_message_widget(child)]

    async def show_end(self) -> None:
        """Mount the conversation's last messages if they are not (the user read far up), and follow them."""
        if self._end_mounted is None:
            return
        async with self._window_lock:
            if self._end_mounted is None:
                return
            known = self._known_messages
            start = max(0, known - MOUNT_BATCH)
            widgets = [message_widget(message) for message in self._messages[start:known]]
            self._end_mounted = None
            with self.app.batch_update():
                await self._remove_message_widgets()
                self._first_mounted = start
                await self.mount_all(widgets)
                self._update_earlier_label()
                await self._update_later_label()
            self.anchor()

    async def show_start(self) -> None:
        """Mount the conversation's first messages if they are not, and scroll to the top."""
        if self._first_mounted == 0:
            super().scroll_home(animate=False, immediate=True)
            return
        async with self._window_lock:
            if self._end_mounted is None:
                self._known_messages = len(self._messages)
            end = min(self._known_messages, MOUNT_BATCH)
            widgets = [message_widget(message) for message in self._messages[:end]]
            self.release_anchor()
            with self.app.batch_update():
                await self._remove_message_widgets()
                self._first_mounted = 0
                self._end_mounted = end if end < self._known_messages else None
                await self.mount_all(widgets, after=self.query_one(".earlier"))
                self._update_earlier_label()
                await self._update_later_label()
                super().scroll_home(animate=False, immediate=True)

    async def _remove_message_widgets(self) -> None:
        await self.remove_children([child for child in self.children if not _is_label(child)])

    def scroll_page_up(self, *, animate: bool = True, **options: Any) -> None:  # type: ignore[override]
        # Now, not after the next refresh as Textual does: a page computed from the offset before a step of the
        # window moved it (see `arrange`) would land a page plus that step away.
        self.scroll_to(y=self.scroll_y - self.scrollable_content_region.height, animate=animate, immediate=not animate)

    def scroll_page_down(self, *, animate: bool = True, **options: Any) -> None:  # type: ignore[override]
        self.scroll_to(y=self.scroll_y + self.scrollable_content_region.height, animate=animate, immediate=not animate)

    def scroll_home(self, *, animate: bool = True, **options: Any) -> None:  # type: ignore[override]
        """Home: the start of the conversation, not only of the mounted window (but not away from a reply
        that is streaming: the window then moves up as the user scrolls)."""
        if self._first_mounted > 0 and options.get("y_axis", True) and not self._streaming_at_the_bottom():
            self.run_worker(self.show_start(), group="message-window-jump")
        else:
            super().scroll_home(animate=animate, **options)

    def scroll_end(self, *, animate: bool = True, **options: Any) -> None:  # type: ignore[override]
        """End: the end of the conversation, following it again."""
        if self._end_mounted is not None and options.get("y_axis", True):
            self.run_worker(self.show_end(), group="message-window-jump")
        else:
            super().scroll_end(animate=animate, **options)

    # -- rendering the next step's replies ahead of the reader

    def _render_ahead_soon(self) -> None:
        if not self._rendering_ahead and self.is_attached:
            self._rendering_ahead = True
            self.set_timer(RENDER_AHEAD_DELAY, self._render_ahead_one)

    def _render_ahead_one(self) -> None:
        """Render one segment of the messages just beyond the window's edges, then come back for the next."""
        from flashchat.tui.lines_ahead import LINES_AHEAD

        self._rendering_ahead = False
        if self._window_moving or not self.is_attached:
            return  # the step mounts what it mounts; the end of its loop comes back here
        target = self._drawing_width_and_styles()
        if target is None:
            return
        for text in self._segment_texts_ahead():
            if not LINES_AHEAD.has(text, *target):
                LINES_AHEAD.render(text, *target)
                self._render_ahead_soon()
                return

    def _drawing_width_and_styles(self) -> tuple[int, MarkdownStyles] | None:
        """What a stored reply's segment is rendered at here, from one that is mounted and laid out."""
        for segment in self._segments():
            if not segment.streaming and (target := segment.drawing_width_and_styles()) is not None:
                return target
        return None

    def _segment_texts_ahead(self) -> list[str]:
        """The segments of the replies the next window step mounts in the way the reader scrolls, nearest first
        (the other way's change at every step as the window moves: rendering them was mostly wasted)."""
        above = list(reversed(self._messages[max(0, self._first_mounted - WINDOW_STEP) : self._first_mounted]))
        below: list[Message] = []
        if self._end_mounted is not None:
            below = list(self._messages[self._end_mounted : self._end_mounted + WINDOW_STEP])
        reply_view, _ = _reply_classes()
        return [
            text
            for message in (above if self._reading_up else below)
            if message.role != "user" and not message.answers_tool_calls
            for text in reply_view.stored_segment_texts(message)
        ]

    # -- parking segments that are far off-screen

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value != old_value:
            self._reading_up = new_value < old_value
        self.schedule_parking()
        if not self.following and (self._first_mounted > 0 or self._end_mounted is not None or self._too_many()):
            self._move_window()

    def _too_many(self) -> bool:
        return len(self.children) > MAX_MOUNTED + 2 and len(self.message_widgets) > MAX_MOUNTED

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
        # As far as the window mounts ahead: a reply mounted ahead of the reader is not built, parked and built again.
        margin = PARK_BEYOND_SCREENS * view.height
        near_top, near_bottom = view.y - margin, view.bottom + margin
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
