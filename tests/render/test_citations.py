"""Citation markers from a recorded grounded reply, links to the sources, URL-context fetches and the reply metadata
kept with the message; through the real SDK against the fake server, in every front end."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from flashchat.config.settings import Settings
from flashchat.core.events import Finished
from flashchat.render.citations import cited_text
from flashchat.render.sources import link_target, sources_markdown
from flashchat.store.conversation_store import open_store
from flashchat.testing.fake_gemini import FakeGemini, Reply
from repl_driver import ReplDriver
from support import WIRE, collect, make_session, run_in_terminal

ENTER = "\r"
SEARCH_STREAM = WIRE / "pydantic-ai/test_google_model_web_search_tool_stream__00.json"
WEB_FETCH = WIRE / "pydantic-ai/test_google_model_web_fetch_tool__00.json"
# Where the recording's supports end, with the sources that back them (its chunk indices [4, 1] are [2][5]).
EXPECTED_MARKS = [
    "humidity at approximately 68%.[1]",
    "temperature of 68°F with passing clouds.[2]",
    "could reach up to 85°F.[4]",
    "gradually cooling down in the evening.[2][5]",
    "The chance of rain remains low throughout the day.[1]",
]


async def _grounded_message(fake: FakeGemini, settings: Settings, recording: Path = SEARCH_STREAM):
    fake.enqueue(Reply.replay(json.loads(recording.read_text())))
    session = make_session(dataclasses.replace(settings, google_search=True), store=open_store())
    events = await collect(session.send("weather?"))
    await session.aclose()
    assert isinstance(events[-1], Finished), events[-1]
    return events[-1].message


async def test_markers_go_where_the_recorded_supports_end(fake: FakeGemini, settings: Settings) -> None:
    """The recorded offsets are UTF-8 bytes: counted as characters, every marker after the first `°` would land
    a byte early per `°` before it."""
    message = await _grounded_message(fake, settings)
    cited = cited_text(message.text, message.extras, markdown=False)
    for expected in EXPECTED_MARKS:
        assert expected in cited
    assert (
        cited.replace("[1]", "").replace("[2]", "").replace("[3]", "").replace("[4]", "").replace("[5]", "")
        == message.text
    )
    assert cited_text(message.text, message.extras).count("\\[") == cited.count("[")  # escaped for Markdown


async def test_metadata_is_kept_with_the_stored_message(fake: FakeGemini, settings: Settings) -> None:
    """responseId and the per-modality token breakdown, in the database row."""
    message = await _grounded_message(fake, settings)
    recording = json.loads(SEARCH_STREAM.read_text())["response"]["body_text"]
    last = json.loads(recording.strip().split("\r\n\r\n")[-1].removeprefix("data: "))
    [conversation] = open_store().list_conversations()
    stored = open_store().load(conversation.id).messages[-1]
    assert stored.text == message.text
    assert stored.extras["response_id"] == last["responseId"]
    assert stored.extras["token_details"]["prompt"] == {
        entry["modality"]: entry["tokenCount"] for entry in last["usageMetadata"]["promptTokensDetails"]
    }


async def test_url_context_fetches_are_listed_with_their_status(fake: FakeGemini, settings: Settings) -> None:
    message = await _grounded_message(fake, settings, WEB_FETCH)
    assert sources_markdown(message.extras).endswith(r"Fetched: https://ai.pydantic.dev (fetched)")


def test_one_shot_on_a_terminal_writes_markers_and_links(fake: FakeGemini, cli_env: dict) -> None:
    recording = json.loads(SEARCH_STREAM.read_text())
    fake.enqueue(Reply.replay(recording))
    linked = run_in_terminal(["-p", "weather?", "--search"], {**cli_env, "FORCE_HYPERLINK": "1"})
    flat = re.sub(r"\s+", " ", re.sub(r"\x1b\[[0-9;]*m", "", linked))
    for expected in EXPECTED_MARKS:
        assert expected.replace("\n", " ") in flat
    links = re.findall(r"\x1b\]8;[^;]*;([^\x1b\x07]*)(?:\x1b\\|\x07)", linked)
    assert [link for link in links if link] and all(link.startswith("https://") for link in links if link)

    fake.enqueue(Reply.replay(recording))
    unlinked = run_in_terminal(["-p", "weather?", "--search"], {**cli_env, "FORCE_HYPERLINK": "0"})
    assert "\x1b]8;" not in unlinked
    joined = re.sub(r"\s+", "", re.sub(r"\x1b\[[0-9;]*m", "", unlinked))
    first_uri = json.loads(recording["response"]["body_text"].strip().split("\r\n\r\n")[-1].removeprefix("data: "))[
        "candidates"
    ][0]["groundingMetadata"]["groundingChunks"][0]["web"]["uri"]
    assert link_target(first_uri) in joined  # no hyperlinks: the address itself is written (spaces as %20)


def test_a_hostile_source_address_never_becomes_a_terminal_link(fake: FakeGemini, cli_env: dict) -> None:
    grounding = {
        "groundingChunks": [
            {"web": {"title": "evil\x1b]8;;file:///etc/passwd\x07click", "uri": "javascript:alert(1)"}},
            {"web": {"title": "ok", "uri": "https://example.com/a\x1b[2J"}},
        ],
        "groundingSupports": [{"groundingChunkIndices": [0, 1], "segment": {"endIndex": 5, "text": "Hello"}}],
    }
    chunk = {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "Hello world."}]}, "finishReason": "STOP",
             "groundingMetadata": grounding}
        ]
    }  # fmt: skip
    fake.enqueue(Reply.events([chunk]))
    output = run_in_terminal(["-p", "hi", "--search"], {**cli_env, "FORCE_HYPERLINK": "1"})
    assert "Hello[1][2] world." in re.sub(r"\x1b\[[0-9;]*m", "", output)
    links = re.findall(r"\x1b\]8;[^;]*;([^\x1b\x07]*)", output)
    assert {link for link in links if link} == {"https://example.com/a%1B%5B2J"}  # not the javascript: one
    assert "\x1b[2J" not in output and "file:///etc/passwd\x07" not in output


async def test_plain_mode_writes_markers(fake: FakeGemini, settings: Settings, tmp_path: Path) -> None:
    fake.enqueue(Reply.replay(json.loads(SEARCH_STREAM.read_text())))
    driver = ReplDriver(dataclasses.replace(settings, google_search=True), tmp_path)
    await driver.start()
    driver.type(f"weather?{ENTER}")
    output = await driver.wait_for_output("Sources:")
    await driver.quit()
    for expected in EXPECTED_MARKS:
        assert expected in output
