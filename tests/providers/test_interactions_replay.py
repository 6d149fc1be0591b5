"""Every capture in shared/wire-interactions replays through the Interactions provider.

Streams and finished bodies alike: the expected text, signatures, function calls, usage and interaction id are
read straight from the capture (frames split and parsed here, never by flashchat's own code) and compared with
what the engine kept and showed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core.events import Finished, TextDelta
from flashchat.testing.fake_interactions import FakeInteractions, IReply
from support import SHARED_WIRE, collect, make_session

CAPTURES_DIR = SHARED_WIRE.parent / "wire-interactions"
CAPTURES = sorted(CAPTURES_DIR.glob("vercel_*.json"))


def capture_events(recording: dict) -> list[dict]:
    body = recording["response"]["body_text"]
    events = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("data", "").startswith("{"):
            events.append(json.loads(lines["data"]))
    return events


def expected_from(recording: dict) -> dict:
    """Text, signatures, function calls, usage and id as the capture holds them."""
    text, signatures, calls, usage, interaction_id = [], [], [], None, ""
    if recording["response"]["headers"].get("content-type", "").startswith("text/event-stream"):
        arguments: dict[int, str] = {}
        names: dict[int, tuple[str, str]] = {}
        for event in capture_events(recording):
            kind = event["event_type"]
            if kind == "step.start" and event["step"]["type"] == "function_call":
                names[event["index"]] = (event["step"]["id"], event["step"]["name"])
            elif kind == "step.delta":
                delta = event["delta"]
                if delta["type"] == "text":
                    text.append(delta["text"])
                elif delta["type"] == "thought_signature":
                    signatures.append(delta["signature"])
                elif delta["type"] == "arguments_delta":
                    arguments[event["index"]] = arguments.get(event["index"], "") + delta["arguments"]
            elif kind == "interaction.completed":
                usage = event["interaction"]["usage"]
                interaction_id = event["interaction"].get("id", "")
        calls = [(*names[index], json.loads(arguments.get(index, "{}"))) for index in sorted(names)]
    else:
        body = json.loads(recording["response"]["body_text"])
        for step in body["steps"]:
            if step["type"] == "model_output":
                text += [item["text"] for item in step.get("content", []) if item["type"] == "text"]
            elif step["type"] == "thought" and step.get("signature"):
                signatures.append(step["signature"])
            elif step["type"] == "function_call":
                calls.append((step["id"], step["name"], step["arguments"]))
        usage, interaction_id = body["usage"], body.get("id", "")
    return {"text": "".join(text), "signatures": signatures, "calls": calls, "usage": usage, "id": interaction_id}


def test_every_capture_is_here() -> None:
    assert len(CAPTURES) == 20


@pytest.mark.parametrize("path", CAPTURES, ids=lambda path: path.stem)
async def test_capture_replays_through_the_provider(path: Path) -> None:
    recording = json.loads(path.read_text("utf-8"))
    expected = expected_from(recording)
    with FakeInteractions() as fake:
        settings = Settings(
            api_key=fake.api_key,
            base_url=fake.url,
            api="interactions",
            model=recording["request"]["known_fields"].get("model", "gemini-3.5-flash"),
        )
        session = make_session(settings)
        fake.enqueue(IReply.replay(recording))
        events = await collect(session.send("replayed prompt"))
    (end,) = [event for event in events if isinstance(event, Finished)]
    message = end.message
    assert "".join(event.text for event in events if isinstance(event, TextDelta)) == expected["text"]
    assert message.text == expected["text"]
    steps = message.native["steps"]
    assert [step["signature"] for step in steps if step["type"] == "thought" and step.get("signature")] == expected[
        "signatures"
    ]
    kept_calls = [(s["id"], s["name"], s["arguments"]) for s in steps if s["type"] == "function_call"]
    assert kept_calls == expected["calls"]
    usage = expected["usage"]
    assert (message.usage.prompt, message.usage.output, message.usage.thoughts, message.usage.total) == (
        usage["total_input_tokens"],
        usage.get("total_output_tokens", 0),
        usage.get("total_thought_tokens", 0),
        usage["total_tokens"],
    )
    assert message.interaction_id == expected["id"]
    assert message.finish_reason == "STOP"
    if "google-search" in path.stem:
        assert message.extras["grounding"]["grounding_chunks"]  # url_citation annotations as sources
        assert message.extras["grounding"]["web_search_queries"]
