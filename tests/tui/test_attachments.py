"""Attachments in the TUI, as a user meets them: chips under the composer before sending (type, size, tokens,
resolution), an unknown `@path` flagged, a pasted path attached, the thumbnail after sending, the clipboard."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from textual import events

from flashchat.testing.fake_gemini import FakeGemini
from flashchat.tui.widgets.attachment_chip import AttachmentChip
from flashchat.tui.widgets.attachment_chips import AttachmentChips
from flashchat.tui.widgets.image_thumbnail import ImageThumbnail
from media_samples import pdf, png

from .pilot_helpers import send, wait_for_reply, wait_until


def chip_texts(app) -> list[str]:
    return [str(chip.render()) for chip in app.query_one(AttachmentChips).query(AttachmentChip)]


async def type_text(pilot, text: str) -> None:
    pilot.app.query_one("#composer").insert(text)
    await wait_until(pilot, lambda: bool(chip_texts(pilot.app)) or not text)


async def test_chips_show_type_size_and_tokens_before_sending(fake: FakeGemini, make_app, workdir: Path) -> None:
    (workdir / "shot.png").write_bytes(png())
    (workdir / "spec.pdf").write_bytes(pdf(pages=2))
    app = make_app()
    async with app.run_test() as pilot:
        await type_text(pilot, "compare @shot.png with @spec.pdf and @app.py")
        await wait_until(pilot, lambda: len(chip_texts(app)) == 3)
        assert chip_texts(app) == [
            "🖼 shot.png · PNG · 80 B · default res · 1,120 tokens · $0.0017",
            "📎 spec.pdf · PDF · 2 pages · 227 B · default res · 1,120 tokens · $0.0017",
            "📎 app.py · 8 tokens · <$0.0001",
        ]
    assert fake.generate_requests() == []  # counted, not sent


async def test_an_unknown_path_is_flagged_before_sending(fake: FakeGemini, make_app, workdir: Path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await type_text(pilot, "fix @apx.py please")
        assert chip_texts(app) == ["⚠ @apx.py: no such file here (it will be sent as text)"]
        assert app.query_one(AttachmentChips).query_one(AttachmentChip).has_class("-problem")


async def test_a_pasted_path_is_attached_and_sent_as_an_image(fake: FakeGemini, make_app, workdir: Path) -> None:
    (workdir / "my shot.png").write_bytes(png())
    app = make_app()
    async with app.run_test() as pilot:
        app.query_one("#composer").post_message(events.Paste(f"'{workdir / 'my shot.png'}'"))
        await wait_until(pilot, lambda: bool(chip_texts(app)))
        assert app.query_one("#composer").text == ""  # the path became an attachment, not text
        assert chip_texts(app)[0].startswith("🖼 my shot.png · PNG")
        await send(pilot, "what is this?")
        await wait_for_reply(pilot)
        assert not chip_texts(app)  # the chips went with the prompt
        assert app.query(ImageThumbnail)
    part = fake.generate_requests()[-1].contents[0]["parts"][0]["inlineData"]
    assert base64.urlsafe_b64decode(part["data"] + "=" * (-len(part["data"]) % 4)) == png()


async def test_the_resolution_key_changes_what_is_sent(fake: FakeGemini, make_app, workdir: Path) -> None:
    (workdir / "shot.png").write_bytes(png())
    app = make_app()
    async with app.run_test() as pilot:
        await type_text(pilot, "@shot.png in two words")
        await pilot.press("f10")
        await wait_until(pilot, lambda: "low res" in " ".join(chip_texts(app)))
        assert chip_texts(app) == ["🖼 shot.png · PNG · 80 B · low res · 280 tokens · $0.0004"]
        await pilot.press("enter")
        await wait_for_reply(pilot)
    part = fake.generate_requests()[-1].contents[0]["parts"][0]
    assert part["mediaResolution"] == {"level": "MEDIA_RESOLUTION_LOW"}


async def test_no_clipboard_tool_is_said_plainly(fake: FakeGemini, make_app, tmp_path: Path, monkeypatch) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("f8")
        await wait_until(pilot, lambda: bool(app._notifications))
        [note] = list(app._notifications)
        assert note.message.startswith("no clipboard tool found to paste an image: install wl-clipboard (Wayland)")


@pytest.mark.parametrize("tool", ["wl-paste", "xclip"])
async def test_a_clipboard_image_is_attached(
    fake: FakeGemini, make_app, tmp_path: Path, monkeypatch, workdir: Path, tool: str
) -> None:
    """A stand-in for the clipboard tool (a script that prints a PNG), found on PATH like the real one."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "clip.png").write_bytes(png())
    script = bin_dir / tool
    script.write_text(f"#!/bin/sh\ncat '{tmp_path / 'clip.png'}'\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("f8")
        await wait_until(pilot, lambda: bool(chip_texts(app)))
        assert chip_texts(app)[0].startswith("🖼 clipboard.png · PNG · 80 B")


async def test_a_reopened_conversation_names_its_attachments(fake: FakeGemini, make_app) -> None:
    from flashchat.core.conversation import Conversation, Message
    from flashchat.core.media import MediaRef
    from flashchat.tui.widgets.user_message import UserMessage

    ref = MediaRef("ab" * 32, "video/mp4", "demo.mp4", 50_000_000, "low", None, 65.0)
    conversation = Conversation(messages=[Message(role="user", text="summarise it", media=[ref])])
    app = make_app(conversation=conversation)
    async with app.run_test() as pilot:
        await pilot.pause()
        shown = str(app.query_one(UserMessage).render())
        assert shown == "summarise it\n📎 demo.mp4 · MP4 · 1:05 · 50.0 MB · low res"


async def test_a_clipboard_tool_in_a_relative_path_directory_is_not_run(
    fake: FakeGemini, make_app, tmp_path: Path, monkeypatch, workdir: Path
) -> None:
    """A repository that ships its own `wl-paste` gets nothing: only PATH's absolute directories are searched."""
    ran = tmp_path / "ran"
    (workdir / "wl-paste").write_text(f"#!/bin/sh\ntouch '{ran}'\n")
    (workdir / "wl-paste").chmod(0o755)
    monkeypatch.setenv("PATH", ".")
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("f8")
        await wait_until(pilot, lambda: bool(app._notifications))
        assert next(iter(app._notifications)).message.startswith("no clipboard tool found")
    assert not ran.exists()


async def test_f9_shows_the_last_image_full_size(fake: FakeGemini, make_app, workdir: Path) -> None:
    from flashchat.tui.screens.image_screen import ImageScreen

    (workdir / "shot.png").write_bytes(png())
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await send(pilot, "see @shot.png now")
        await wait_for_reply(pilot)
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, ImageScreen))
        big = app.screen.query_one(ImageThumbnail)
        assert len(big._rows) > len(app.query(ImageThumbnail).first()._rows)  # larger than the thumbnail
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ImageScreen))
