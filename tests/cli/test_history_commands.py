"""`flashchat history ...` and the history everywhere: what a failed first request leaves, importing twice,
rename in each front end, snippets and plurals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flashchat.store.conversation_store import open_store
from flashchat.testing.fake_gemini import FakeGemini, Reply
from support import run_cli, run_in_terminal


def test_a_failed_first_request_is_kept_but_not_listed(fake: FakeGemini, cli_env: dict) -> None:
    """The prompt stays stored (`-c` reopens it to retry) but no "1 message · 0 tokens" entry is listed."""
    fake.enqueue(Reply.error(400, status="INVALID_ARGUMENT", message="bad request"))
    failed = run_cli(["-p", "my carefully typed question"], cli_env)
    assert failed.returncode != 0
    assert run_cli(["history"], cli_env).stdout.startswith("No conversations yet")

    assert run_cli(["-c", "-p", "again please"], cli_env).returncode == 0
    assert fake.generate_requests()[-1].user_texts() == ["my carefully typed question", "again please"]
    listing = run_cli(["history"], cli_env).stdout.splitlines()
    assert len(listing) == 2 and listing[1].endswith("my carefully typed question")
    assert listing[1].split()[3] == "3"  # both prompts and the reply


def test_importing_the_same_file_twice_stores_it_once(fake: FakeGemini, cli_env: dict, tmp_path: Path) -> None:
    assert run_cli(["-p", "export me"], cli_env).returncode == 0
    conversation_id = run_cli(["history"], cli_env).stdout.splitlines()[1].split()[0]
    target = tmp_path / "chat.json"
    run_cli(["history", "export", conversation_id, "--format", "json", "-o", str(target)], cli_env)

    again = run_cli(["history", "import", str(target)], cli_env)
    assert again.returncode == 0
    assert again.stdout == f"already in the history as {conversation_id}; nothing imported\n"

    # Without its id (a hand-edited file), the same start time, title and messages still match.
    document = json.loads(target.read_text())
    document["conversation"]["id"] = ""
    stripped = run_cli(["history", "import", "-"], cli_env, stdin=json.dumps(document).encode())
    assert stripped.stdout == f"already in the history as {conversation_id}; nothing imported\n"
    assert len(run_cli(["history"], cli_env).stdout.splitlines()) == 2

    # A different conversation under the same id is a new one, not a duplicate.
    document["messages"][0]["text"] = "changed"
    document["conversation"]["id"] = conversation_id
    changed = run_cli(["history", "import", "-"], cli_env, stdin=json.dumps(document).encode())
    assert changed.stdout.startswith("imported as ") and conversation_id not in changed.stdout
    assert len(run_cli(["history"], cli_env).stdout.splitlines()) == 3


def test_history_rename(fake: FakeGemini, cli_env: dict) -> None:
    run_cli(["-p", "old title here"], cli_env)
    conversation_id = run_cli(["history"], cli_env).stdout.splitlines()[1].split()[0]
    renamed = run_cli(["history", "rename", conversation_id[:4], "Trip", "to", "Kyoto"], cli_env)
    assert renamed.returncode == 0 and renamed.stdout == f"renamed {conversation_id} to Trip to Kyoto\n"
    assert run_cli(["history"], cli_env).stdout.splitlines()[1].endswith("  Trip to Kyoto")
    empty = run_cli(["history", "rename", conversation_id, " "], cli_env)
    assert empty.returncode == 2 and empty.stderr.startswith("flashchat: the new title is empty")
    missing = run_cli(["history", "rename", "zzzz", "x"], cli_env)
    assert missing.returncode == 2 and "no conversation with id 'zzzz'" in missing.stderr


def test_search_snippets_keep_brackets_and_stress_the_match_on_a_terminal(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("Use list[int] for the moon phases."))
    run_cli(["-p", "typing question"], cli_env)
    piped = run_cli(["history", "search", "moon"], cli_env).stdout.splitlines()
    assert piped[1] == "    Use list[int] for the moon phases."
    on_terminal = run_in_terminal(["history", "search", "moon"], cli_env)
    assert "Use list[int] for the \x1b[1mmoon\x1b[22m phases." in on_terminal


@pytest.mark.parametrize(("messages", "label"), [(1, "(1 message)"), (2, "(2 messages)")])
def test_the_delete_question_counts_in_words(
    messages: int, label: str, isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from flashchat.cli import history_commands
    from flashchat.core.conversation import Conversation, Message

    store = open_store()
    conversation = Conversation()
    for index in range(messages):
        message = conversation.add(Message(role="user" if index % 2 == 0 else "model", text=f"m{index}"))
        store.save_message(conversation, message)
    asked: list[str] = []

    class Terminal:
        @staticmethod
        def isatty() -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal)
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "n")
    history_commands.delete(store, conversation.id, False, __import__("sys").stdout)
    assert asked == [f"Delete 'm0' {label}? [y/N] "]
    assert "Kept." in capsys.readouterr().out
    store.close()
