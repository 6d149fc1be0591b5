"""Snapshot tests: each docstring says what the picture shows. Update with `pytest --snapshot-update`
after checking snapshot_report.html. Nothing on screen depends on a clock, a port or a measured duration."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message, Usage
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.app import FlashchatApp

from .demo import demo_conversation

SIZE = (100, 32)


@pytest.fixture
def app_for(config_path: Path):
    def make(settings: Settings | None = None, **kwargs) -> FlashchatApp:
        settings = settings or Settings(api_key="snapshot-key", base_url="http://127.0.0.1:9")
        return FlashchatApp(settings, config_path=config_path, warm_up=False, **kwargs)

    return make


async def settle(pilot) -> None:
    """No blinking cursor, no pending workers: the same picture on every run."""
    pilot.app.query_one("#composer").cursor_blink = False
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_empty_chat(snap_compare, app_for) -> None:
    """An empty chat: the hint line, the composer with its placeholder, the status bar with the thinking
    level selector on "medium" and the model name, and the footer keys."""
    assert snap_compare(app_for(), terminal_size=SIZE, run_before=settle)


def test_finished_conversation_with_code_and_collapsed_thoughts(snap_compare, app_for) -> None:
    """A question and its answer: header "gemini-3.5-flash · thinking medium", a collapsed "▶ Thoughts"
    line, then Markdown with a highlighted Python code block, a table and a bullet list. Under the reply its
    dim footer: "1,234 in (1,024 cached) · 64 thinking · 187 out · first token 0.42 s · 1.90 s · $0.0027"."""
    assert snap_compare(app_for(conversation=demo_conversation()), terminal_size=(100, 48), run_before=settle)


def test_usage_panel_open(snap_compare, app_for) -> None:
    """The usage panel above the composer: a dim column header (reply, prompt, cached, thinking, output,
    1st token, time, cost), the row "#1  1,234  1,024  64  187  0.42 s  1.90 s  $0.0027" at gemini-3.5-flash's
    list price, the same figures in bold as "total" (no first token), and "context" with the meter at
    1,421 / 1,048,576 tokens, 0%."""

    async def run_before(pilot) -> None:
        await pilot.press("ctrl+u")
        await settle(pilot)

    app = app_for(conversation=demo_conversation())
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_usage_panel_at_80_by_24(snap_compare, app_for) -> None:
    """The usage panel on an 80×24 terminal with three replies of a long conversation: every column, the
    "1st token" one with its value included, fits on one line per reply (#1 to #3: 1,234, 200,000 and 400,000
    prompt tokens), with the bold total (601,234 prompt tokens, 210.4 s, $0.9083 at the configured prices) and
    the context line 400,400 / 1,048,576 tokens, 38% uncut. Above it the last reply's footer wraps onto two
    lines ("… first token 12.5 s ·" / "104.2 s · $0.6028")."""
    conversation = demo_conversation()
    reply = conversation.messages[-1]
    for prompt in (200_000, 400_000):
        conversation.messages += [
            Message(role="user", text="more", model="gemini-3.5-flash"),
            dataclasses.replace(
                reply, usage=dataclasses.replace(reply.usage, prompt=prompt, output=400), first_token_seconds=12.5,
                duration_seconds=104.25,
            ),
        ]  # fmt: skip
    settings = Settings(api_key="snapshot-key", price_input_per_million=1.5, price_output_per_million=9.0)

    async def run_before(pilot) -> None:
        await pilot.press("ctrl+u")
        await settle(pilot)

    assert snap_compare(app_for(settings, conversation=conversation), terminal_size=(80, 24), run_before=run_before)


def test_cost_estimate_before_a_large_send_at_80_by_24(snap_compare, app_for, fake: FakeGemini) -> None:
    """On an 80×24 terminal, over the chat, an amber-edged dialog: "This request is large (over
    large_request_tokens, 100,000)", in bold "~900k tokens ≈ $1.35, ≈ $0.14 if cached", the dim line
    "899,990 tokens of conversation so far + 6 new (estimated); input only, the reply is billed on top", and
    "Enter sends it · Esc goes back to the prompt"."""
    usage = Usage(prompt=899_000, output=990, total=899_990)
    conversation = Conversation(title="Big repository")
    conversation.add(Message(role="user", text="the whole repository", model="gemini-3.5-flash"))
    conversation.add(
        Message(role="model", text="Read it.", model="gemini-3.5-flash", usage=usage, finish_reason="STOP")
    )
    settings = Settings(api_key=fake.api_key, base_url=fake.url)

    async def run_before(pilot) -> None:
        pilot.app.query_one("#composer").load_text("And now the tests, please")
        await pilot.press("enter")
        while type(pilot.app.screen).__name__ != "CostEstimateScreen":
            await pilot.pause(0.01)
        pilot.app.query_one("#composer").cursor_blink = False
        await pilot.pause()

    assert snap_compare(app_for(settings, conversation=conversation), terminal_size=(80, 24), run_before=run_before)


def test_context_meter_warns_past_80_percent(snap_compare, app_for) -> None:
    """The usage panel with the context meter in the warning colour (bold, amber): 900,000 of 1,048,576 tokens,
    86%; the status bar's "context 86%" is amber too."""
    conversation = demo_conversation()
    conversation.messages[-1].usage = dataclasses.replace(conversation.messages[-1].usage, prompt=899_813)

    async def run_before(pilot) -> None:
        await pilot.press("ctrl+u")
        await settle(pilot)

    assert snap_compare(app_for(conversation=conversation), terminal_size=SIZE, run_before=run_before)


def test_level_selector_after_choosing_high(snap_compare, app_for) -> None:
    """The status bar's thinking-level selector with "high" highlighted after two presses of Ctrl+T."""

    async def run_before(pilot) -> None:
        await pilot.press("ctrl+t", "ctrl+t")
        await settle(pilot)

    assert snap_compare(app_for(), terminal_size=(100, 12), run_before=run_before)


def test_inline_error_for_a_bad_key(snap_compare, app_for, fake: FakeGemini) -> None:
    """The prompt "hello", then under the reply header a red-edged notice: the API key was rejected, check
    GEMINI_API_KEY, and "Press F4 to enter another key."; the app is still usable."""
    fake.enqueue(Reply.bad_key())
    settings = Settings(api_key=fake.api_key, base_url=fake.url)

    async def run_before(pilot) -> None:
        pilot.app.query_one("#composer").load_text("hello")
        await pilot.press("enter")
        while pilot.app.replying or not pilot.app.query("ErrorNotice"):
            await pilot.pause(0.01)
        await settle(pilot)

    assert snap_compare(app_for(settings), terminal_size=SIZE, run_before=run_before)


def test_setup_screen_without_a_key(snap_compare, app_for, config_path: Path) -> None:
    """The setup dialog over the empty chat: how to get a key, GEMINI_API_KEY, the config file path with
    mode 0600, a password field (empty), and the Skip / Save key buttons."""

    async def run_before(pilot) -> None:
        await pilot.pause()
        pilot.app.screen.query_one("#setup-key").cursor_blink = False
        await pilot.pause()

    app = app_for(Settings(api_key=""))
    app.config_path = Path("/home/user/.config/flashchat/config.toml")  # the same path on every machine
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("theme", ["flashchat-dark", "flashchat-light", "flashchat-high-contrast", "nord"])
def test_theme(snap_compare, app_for, theme: str) -> None:
    """The finished demo conversation in each shipped theme, and in Textual's built-in "nord" theme."""
    settings = Settings(api_key="snapshot-key", theme=theme)
    assert snap_compare(app_for(settings, conversation=demo_conversation()), terminal_size=SIZE, run_before=settle)


def test_history_sidebar(snap_compare, app_for, isolated_home: Path) -> None:
    """The history sidebar on the left: "History", the search box, and three conversations, newest first,
    each with its message and token counts; the demo conversation is open on the right."""
    from flashchat.store.conversation_store import open_store

    store = open_store(isolated_home / "snapshot-history.db")
    for question in ("Plan a trip to Lisbon", "Explain Rust lifetimes", "Fix my regex"):
        conversation = demo_conversation()
        conversation.messages[0].text = question
        conversation.title = question
        for message in conversation.messages:
            store.save_message(conversation, message)

    async def run_before(pilot) -> None:
        await pilot.press("ctrl+b")
        pilot.app.query_one("#history-search").cursor_blink = False
        await settle(pilot)

    app = app_for(store=store, conversation=demo_conversation())
    assert snap_compare(app, terminal_size=(120, 32), run_before=run_before)
    store.close()


def tool_call_waiting(fake: FakeGemini, tmp_path: Path, monkeypatch, *toasts: str):
    """Settings with local tools on, and the steps that ask about app.py and stop at the approval dialog
    (raising `toasts` while it is up)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("print('hi')\n")
    fake.enqueue(Reply.function_calls([("read_file", {"path": "app.py"})]))

    async def run_before(pilot) -> None:
        pilot.app.query_one("#composer").load_text("what does app.py do?")
        await pilot.press("enter")
        while type(pilot.app.screen).__name__ != "ToolApprovalScreen":
            await pilot.pause(0.01)
        for toast in toasts:
            pilot.app.notify(toast)
        pilot.app.query_one("#composer").cursor_blink = False
        await pilot.pause()

    return Settings(api_key=fake.api_key, base_url=fake.url, local_tools=True), run_before


def test_tool_approval_dialog(snap_compare, app_for, fake: FakeGemini, tmp_path: Path, monkeypatch) -> None:
    """The prompt "what does app.py do?", a reply header, the one-line notice "⚙ read_file(path='app.py') ·
    waiting for approval", and over it an amber-edged dialog: "The model wants to run a local tool",
    read_file(path='app.py') on a raised line, the read-only note, and the Always (a) / Once (o) / Deny (d)
    buttons with Once focused. The status bar shows "files" (local tools on)."""
    settings, run_before = tool_call_waiting(fake, tmp_path, monkeypatch)
    assert snap_compare(app_for(settings), terminal_size=SIZE, run_before=run_before)


def test_tool_approval_dialog_at_80_by_24_is_not_covered_by_toasts(
    snap_compare, app_for, fake: FakeGemini, tmp_path: Path, monkeypatch
) -> None:
    """The tool-approval dialog on an 80×24 terminal: "The model wants to run a local tool",
    read_file(path='app.py'), the read-only note and the Always / Once / Deny buttons, all inside the frame.
    Two toasts raised while it is up ("History: the database is busy", "Thinking level: high") are held back:
    no toast covers the dialog."""
    settings, run_before = tool_call_waiting(
        fake, tmp_path, monkeypatch, "History: the database is busy", "Thinking level: high"
    )
    assert snap_compare(app_for(settings), terminal_size=(80, 24), run_before=run_before)


def test_reply_with_sources(snap_compare, app_for) -> None:
    """A grounded reply ("Cloudy, 18 °C.") and under it, edged in the accent colour, "Sources:" with two
    numbered links (weather.com, jma.go.jp) and "Searched for: “weather in Tokyo today”". The status bar
    shows "search" (Google Search on)."""
    grounding = {
        "web_search_queries": ["weather in Tokyo today"],
        "grounding_chunks": [
            {"web": {"title": "weather.com", "uri": "https://weather.com/tokyo"}},
            {"web": {"title": "jma.go.jp", "uri": "https://www.jma.go.jp/tokyo"}},
        ],
    }
    conversation = Conversation(title="Weather")
    conversation.add(Message(role="user", text="What's the weather in Tokyo?"))
    conversation.add(
        Message(
            role="model",
            text="Cloudy, 18 °C.",
            model="gemini-3.5-flash",
            thinking_level="medium",
            extras={"grounding": grounding},
        )
    )
    settings = Settings(api_key="snapshot-key", google_search=True)
    assert snap_compare(app_for(settings, conversation=conversation), terminal_size=SIZE, run_before=settle)


def test_endpoint_picker(snap_compare, app_for) -> None:
    """The endpoint picker over the empty chat: "Switch endpoint (the conversation carries on)", then
    "1  default", "2  gateway  openai · gemini-3.5-flash · https://gateway.example/v1" and
    "3  local  openai · qwen3 · http://127.0.0.1:8080/v1", with "default" highlighted."""
    endpoints = {
        "gateway": {"provider": "openai", "model": "gemini-3.5-flash", "base_url": "https://gateway.example/v1"},
        "local": {"provider": "openai", "model": "qwen3", "base_url": "http://127.0.0.1:8080/v1"},
    }
    settings = Settings(api_key="snapshot-key", endpoints=endpoints)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f5")
        await pilot.pause()

    assert snap_compare(app_for(settings), terminal_size=SIZE, run_before=run_before)


def test_help_screen_from_the_action_table(snap_compare, app_for) -> None:
    """F1 over the empty chat: a framed "flashchat keys" list, the composer keys first (enter, shift+enter,
    @path...), then each action from the one table with its key and its [name] for the config's [keys] table
    (escape Stop the reply [stop], ctrl+c Stop the reply, or quit [interrupt], pageup / pagedown / ctrl+home,
    home / ctrl+end, end scrolling, ctrl+t Next thinking level, ... f1 Help), then the palette-only actions under
    ctrl+p (Open a stored conversation, Turn Google Search on or off, ...). The list scrolls."""

    async def run_before(pilot) -> None:
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(app_for(), terminal_size=(110, 40), run_before=run_before)


def _attachment_app(app_for, fake: FakeGemini) -> FlashchatApp:
    return app_for(Settings(api_key=fake.api_key, base_url=fake.url))


async def _type_and_wait(pilot, text: str, chips: int) -> None:
    from flashchat.tui.widgets.attachment_chip import AttachmentChip
    from flashchat.tui.widgets.attachment_chips import AttachmentChips

    from .pilot_helpers import wait_until

    pilot.app.query_one("#composer").insert(text)
    await wait_until(pilot, lambda: len(pilot.app.query_one(AttachmentChips).query(AttachmentChip)) == chips)
    await settle(pilot)


def test_attachment_chips_before_sending(snap_compare, app_for, fake: FakeGemini, workdir: Path) -> None:
    """Under the composer, before anything is sent, one chip per attachment, a line each: "🖼 shot.png · PNG ·
    80 B · default res · 1,120 tokens", "📎 spec.pdf · PDF · 2 pages · 227 B · default res · 1,120 tokens",
    "📎 app.py · 8 tokens", and a red "⚠ @apx.py: no such file here (it will be sent as text)" chip."""
    from media_samples import pdf, png

    (workdir / "shot.png").write_bytes(png())
    (workdir / "spec.pdf").write_bytes(pdf(pages=2))
    app = _attachment_app(app_for, fake)
    run_before = lambda pilot: _type_and_wait(pilot, "compare @shot.png, @spec.pdf, @app.py and @apx.py", 4)  # noqa: E731
    assert snap_compare(app, terminal_size=(100, 24), run_before=run_before)


def test_image_thumbnail_after_sending(snap_compare, app_for, fake: FakeGemini, workdir: Path) -> None:
    """The sent prompt "what is @shot.png?", under it the image as half-block cells (a 20 × 10 cell square:
    a light red upper half over a darker red lower half), the caption "🖼 shot.png · PNG · 80 B · F9 opens it",
    then the model line, a folded "▶ Thoughts", the echoed reply and its footer "1,124 in · 19 thinking ·
    6 out · first token 0.25 s · 1.50 s · $0.0019" (the two times pinned: measured ones differ run to run)."""
    from media_samples import png

    from .pilot_helpers import send, wait_for_reply

    (workdir / "shot.png").write_bytes(png())

    async def run_before(pilot) -> None:
        from flashchat.tui.widgets.reply_footer import ReplyFooter

        await send(pilot, "what is @shot.png?")
        await wait_for_reply(pilot)
        for footer in pilot.app.query(ReplyFooter):
            footer.message = dataclasses.replace(footer.message, first_token_seconds=0.25, duration_seconds=1.5)
            footer.on_mount()
        await settle(pilot)

    assert snap_compare(_attachment_app(app_for, fake), terminal_size=(100, 32), run_before=run_before)


def test_unsupported_type_message_before_sending(snap_compare, app_for, fake: FakeGemini, workdir: Path) -> None:
    """A red chip under the composer: "⚠ blob.bin: not a type flashchat can attach (text, PNG, JPEG, WebP, HEIC,
    GIF, PDF, MP3, WAV, OGG, FLAC, AAC, MP4, WebM or MOV); it will not be sent"."""
    (workdir / "blob.bin").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    app = _attachment_app(app_for, fake)
    assert snap_compare(
        app, terminal_size=(100, 24), run_before=lambda pilot: _type_and_wait(pilot, "see @blob.bin now", 1)
    )


def test_help_screen_at_80_by_24(snap_compare, app_for) -> None:
    """F1 on an 80×24 terminal: the framed key list fills the width; each description wraps inside its own
    column (never back under the keys), with the keys in the accent colour on the left: enter, shift+enter,
    ctrl+j, up / down, ctrl+f, @path... The list scrolls."""

    async def run_before(pilot) -> None:
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(app_for(), terminal_size=(80, 24), run_before=run_before)


def test_grounded_reply_with_citation_markers(snap_compare, app_for) -> None:
    """A reopened grounded reply: "Tokyo is cloudy today, 14 °C.[1][2]" then "Rain is likely tonight.[2]" (each
    marker right after the sentence its sources back, the `°` counted as two bytes as the API does), and under
    it the sources block: "Sources:", 1. weather.com, 2. jma.go.jp, "Searched for: “weather in Tokyo today”" and
    "Fetched: https://weather.com/tokyo (fetched)"."""
    text = "Tokyo is cloudy today, 14 °C. Rain is likely tonight."
    grounding = {
        "web_search_queries": ["weather in Tokyo today"],
        "grounding_chunks": [
            {"web": {"title": "weather.com", "uri": "https://weather.com/tokyo"}},
            {"web": {"title": "jma.go.jp", "uri": "https://www.jma.go.jp/tokyo"}},
        ],
        "grounding_supports": [
            {"grounding_chunk_indices": [0, 1], "segment": {"end_index": 30, "text": "Tokyo is cloudy today, 14 °C."}},
            {"grounding_chunk_indices": [1], "segment": {"start_index": 31, "end_index": 54}},
        ],
    }
    url_context = {"url_metadata": [{"retrieved_url": "https://weather.com/tokyo",
                                     "url_retrieval_status": "URL_RETRIEVAL_STATUS_SUCCESS"}]}  # fmt: skip
    conversation = Conversation(
        messages=[
            Message(role="user", text="weather in Tokyo?"),
            Message(
                role="model", text=text, model="gemini-3.5-flash", thinking_level="medium", finish_reason="STOP",
                extras={"grounding": grounding, "url_context": url_context},
            ),
        ]
    )  # fmt: skip
    assert snap_compare(app_for(conversation=conversation), terminal_size=SIZE, run_before=settle)


def _history_with_a_long_title(isolated_home: Path):
    from flashchat.store.conversation_store import open_store

    store = open_store(isolated_home / "snapshot-history.db")
    for question in ("Why does my asyncio code with list[int] hints block the event loop forever?", "Fix my regex"):
        conversation = demo_conversation()
        conversation.messages[0].text = question
        conversation.title = question
        for message in conversation.messages:
            store.save_message(conversation, message)
    return store


def test_history_search_with_a_long_title(snap_compare, app_for, isolated_home: Path) -> None:
    """The sidebar searching "asyncio": one hit, its long title on one line cut with "…", and under it the
    snippet wrapped over lines, "list[int]" shown with its brackets and the word "asyncio" in reverse video."""
    store = _history_with_a_long_title(isolated_home)

    async def run_before(pilot) -> None:
        await pilot.press("ctrl+b", *"asyncio")
        pilot.app.query_one("#history-search").cursor_blink = False
        await pilot.pause(0.3)  # the search waits for a pause in typing
        await settle(pilot)

    app = app_for(store=store, conversation=demo_conversation())
    assert snap_compare(app, terminal_size=(120, 32), run_before=run_before)
    store.close()


def test_history_delete_dialog_names_the_conversation(snap_compare, app_for, isolated_home: Path) -> None:
    """Over the sidebar, the delete dialog titled "Delete “Fix my regex”?" with "1  Delete this conversation
    for good" and "2  Keep it"; behind it the list, each long title on one line above "2 messages · … tokens"."""
    store = _history_with_a_long_title(isolated_home)

    async def run_before(pilot) -> None:
        await pilot.press("ctrl+b")
        pilot.app.query_one("#history-search").cursor_blink = False
        await settle(pilot)
        await pilot.press("down", "d")
        await settle(pilot)

    app = app_for(store=store, conversation=demo_conversation())
    assert snap_compare(app, terminal_size=(120, 32), run_before=run_before)
    store.close()
