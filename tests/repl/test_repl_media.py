"""Plain mode with media: /attach, /resolution, and an `@path` that names no file flagged before sending."""

from __future__ import annotations

import base64
from pathlib import Path

from flashchat.config.settings import Settings
from flashchat.testing.fake_gemini import FakeGemini
from media_samples import png
from repl_driver import ENTER, ReplDriver


async def test_attach_then_send_sends_the_image_at_the_chosen_resolution(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    (workdir / "shot.png").write_bytes(png())
    repl = ReplDriver(settings, workdir)
    await repl.start()
    repl.type("/attach shot.png" + ENTER)
    await repl.wait_for_output("[shot.png (PNG · 80 B) goes with the next prompt]")
    repl.type("/resolution high" + ENTER)
    await repl.wait_for_output("media_resolution high for shot.png")
    repl.type("what is it?" + ENTER)
    output = await repl.wait_for_output("Echo:")
    await repl.quit()
    assert "[attached shot.png: 1,120 tokens]" in output
    part = fake.generate_requests()[-1].contents[0]["parts"][0]
    assert part["mediaResolution"] == {"level": "MEDIA_RESOLUTION_HIGH"}
    assert base64.urlsafe_b64decode(part["inlineData"]["data"] + "==") == png()


async def test_an_unknown_path_is_flagged_and_sent_only_when_asked_again(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    repl = ReplDriver(settings, workdir)
    await repl.start()
    repl.type("fix @apx.py" + ENTER)
    await repl.wait_for_output("note: no such file here: @apx.py; not sent yet (Enter sends it as written)")
    assert fake.generate_requests() == []
    repl.type(ENTER)  # the line came back as it was: Enter sends it
    await repl.wait_for_output("Echo: fix @apx.py")
    await repl.quit()
    assert fake.generate_requests()[-1].user_texts() == ["fix @apx.py"]
