"""The config's [keys] in plain mode: the same action names run their command; what cannot be bound is said."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flashchat.config.settings import Settings
from flashchat.testing.fake_gemini import FakeGemini
from repl_driver import ENTER, ReplDriver

CTRL_Y = "\x19"


async def test_a_rebound_key_runs_its_command_and_keeps_the_typed_text(
    fake: FakeGemini, settings: Settings, tmp_path: Path
) -> None:
    keys = {"usage": "ctrl+y", "history": "super+h", "nonsense": "f9"}
    driver = ReplDriver(dataclasses.replace(settings, keys=keys), tmp_path)
    await driver.start()
    await driver.wait_for_output("quits.")
    driver.type(f"half a thought{CTRL_Y}")
    output = await driver.wait_for_output("no usage yet")
    assert "warning: [keys] nonsense: unknown action" in output
    assert "warning: [keys] history: plain mode cannot bind 'super+h'" in output
    assert fake.generate_requests() == []
    driver.type(ENTER)  # what was typed before the key came back on the line
    await driver.wait_for_output("Echo: half a thought")
    await driver.quit()
    assert fake.generate_requests()[0].user_texts() == ["half a thought"]
