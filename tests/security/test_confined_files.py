"""Local tools and files: model-chosen paths stay inside the start directory by the way they are opened; only
regular files are read, with a byte cap; a bad path is one line, never a traceback. Files the user names
(`-f`) may be pipes, never devices read until the process is killed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from flashchat.core.attachments import AttachmentError, attach
from flashchat.core.conversation import ToolCall
from flashchat.core.local_tools import LocalTools
from flashchat.testing.fake_gemini import FakeGemini, Reply
from support import run_cli


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("inside\n")
    (root / "docs").mkdir()
    (root / "docs" / "guide.md").write_text("guide\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "app.py").write_text("SECRET\n")
    os.mkfifo(root / "pipe")
    os.symlink("loop-b", root / "loop-a")
    os.symlink("loop-a", root / "loop-b")
    os.symlink("src/app.py", root / "link-in")  # a symlink inside the tree still works
    os.symlink(tmp_path / "outside" / "app.py", root / "link-out")
    os.symlink("../outside", root / "dir-out")
    os.symlink("/dev/zero", root / "zero")
    return root


def read(tools: LocalTools, path: str) -> dict:
    return tools.run(ToolCall("read_file", {"path": path}))


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("pipe", "pipe is not a regular file (a FIFO, device or socket); it is not read"),
        ("zero", "'zero' is outside the working directory"),
        ("loop-a", "loop-a: too many symbolic links (a loop?)"),
        ("src/app\x00.py", "src/app\\0.py: the path has a NUL byte in it"),
        ("x" * 300, "x" * 100 + "… (300 characters): the name is too long"),
        ("src/app.py/more", "src/app.py/more: a component of the path is not a directory"),
        ("link-out", "'link-out' is outside the working directory"),
        ("dir-out/app.py", "'dir-out/app.py' is outside the working directory"),
        ("../outside/app.py", "'../outside/app.py' is outside the working directory"),
        ("src", "src is a directory"),
        ("/proc/self/root/etc/passwd", "is outside the working directory"),
    ],
)
def test_hostile_paths_are_one_line_errors(tree: Path, path: str, error: str) -> None:
    result = read(LocalTools(tree), path)
    assert set(result) == {"error"} and error in result["error"] and "\n" not in result["error"]


def test_links_inside_the_tree_and_absolute_paths_inside_it_still_read(tree: Path) -> None:
    tools = LocalTools(tree)
    assert read(tools, "link-in") == {"result": "inside\n"}
    assert read(tools, str(tree / "src" / "app.py")) == {"result": "inside\n"}
    assert read(tools, "docs/../src/./app.py") == {"result": "inside\n"}


def test_listing_and_searching_refuse_the_same_paths(tree: Path) -> None:
    tools = LocalTools(tree)
    assert "outside" in tools.run(ToolCall("list_directory", {"path": "dir-out"}))["error"]
    assert "NUL" in tools.run(ToolCall("list_directory", {"path": "a\x00"}))["error"]
    assert "outside" in tools.run(ToolCall("search_text", {"query": "SECRET", "path": "dir-out"}))["error"]
    assert tools.run(ToolCall("search_text", {"query": "SECRET"})) == {"result": []}
    assert tools.run(ToolCall("read_file", {"path": 7}))["error"] == "path must be a string, not int"


def test_a_directory_swapped_for_a_symlink_never_reads_outside(tree: Path) -> None:
    """An attacker flips src/ between a real directory and a symlink to ../outside while the model reads
    src/app.py: every read is the inside file or a refusal, never the outside one."""
    tools = LocalTools(tree)
    real = tree / "src-real"
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            os.rename(tree / "src", real)
            os.symlink(tree.parent / "outside", tree / "src")
            os.unlink(tree / "src")
            os.rename(real, tree / "src")

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        results = [read(tools, "src/app.py") for _ in range(3000)]
    finally:
        stop.set()
        swapper.join()
    assert not [result for result in results if "SECRET" in str(result)]
    assert read(tools, "src/app.py") == {"result": "inside\n"}


# -- files the user names (-f, @path)


def test_a_mention_inside_the_tree_never_follows_a_symlink_out(tree: Path) -> None:
    """The repository under review may hold `config.py -> ~/.ssh/id_rsa`: `@link-out` must not send it."""
    with pytest.raises(AttachmentError, match=r"^'link-out' is outside the working directory"):
        attach(["link-out"], tree)
    with pytest.raises(AttachmentError, match=r"^'dir-out/app.py' is outside the working directory"):
        attach(["dir-out/app.py"], tree)
    assert [a.text for a in attach(["link-in"], tree)] == ["inside\n"]
    # A file outside named by the user on purpose is still theirs to attach.
    assert [a.text for a in attach([str(tree.parent / "outside" / "app.py")], tree)] == ["SECRET\n"]


def test_a_fifo_in_the_tree_with_a_writer_is_read(tree: Path) -> None:
    writer = subprocess.Popen(["sh", "-c", f"printf 'through the fifo\\n' > {tree / 'pipe'}"])
    try:
        assert [a.text for a in attach(["pipe"], tree)] == ["through the fifo\n"]
    finally:
        writer.wait()


def test_devices_are_refused_without_reading(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match=r"^/dev/zero is a device or socket, not a file"):
        attach(["/dev/zero"], tmp_path)


def test_a_fifo_nobody_writes_to_gives_up_with_one_line(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "quiet")
    with pytest.raises(AttachmentError, match=r"^quiet: the pipe did not finish within 5 s"):
        attach(["quiet"], tmp_path)


def test_a_file_growing_past_the_cap_is_refused_by_bytes_read(tmp_path: Path) -> None:
    from flashchat.core.confined_files import FileRefused, read_descriptor

    path = tmp_path / "growing.txt"
    path.write_text("x" * 10)
    descriptor = os.open(path, os.O_RDONLY)
    try:
        path.write_text("x" * 5000)  # st_size said 10 when opened; the bytes read say otherwise
        os.lseek(descriptor, 0, os.SEEK_SET)
        with pytest.raises(FileRefused):
            read_descriptor(descriptor, "growing.txt", 1000)
    finally:
        os.close(descriptor)


def test_huge_files_are_refused_before_reading(tmp_path: Path) -> None:
    with (tmp_path / "huge.txt").open("wb") as handle:
        handle.truncate(9 * 1024 * 1024 * 1024)  # sparse: 9 GB said, nothing stored
    with pytest.raises(AttachmentError, match=r"^huge.txt is 9663.7 MB; files over 8 MB are refused$"):
        attach(["huge.txt"], tmp_path)


@pytest.mark.parametrize("given", ["bad\x00name", "loop", "x" * 5000])
def test_unreadable_names_are_one_line(tmp_path: Path, given: str) -> None:
    os.symlink("loop", tmp_path / "loop")
    with pytest.raises(AttachmentError) as raised:
        attach([given], tmp_path)
    assert "\n" not in str(raised.value)


def test_one_shot_reads_process_substitution_and_refuses_a_device(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("seen"))
    command = f"{sys.executable} -m flashchat -p review -f <(printf 'from a pipe\\n')"
    shell = subprocess.run(["bash", "-c", command], env=cli_env, capture_output=True, text=True, timeout=60)
    assert (shell.returncode, shell.stdout) == (0, "seen\n"), shell.stderr
    assert fake.generate_requests()[0].user_texts()[0].endswith("```\nfrom a pipe\n```")
    refused = run_cli(["-p", "review", "-f", "/dev/zero"], cli_env, timeout=60)
    assert refused.returncode == 2 and refused.stderr.strip().endswith(
        "/dev/zero is a device or socket, not a file; only files and pipes can be attached"
    )


UNREADABLE = """
import json, sys
from pathlib import Path
from flashchat.core.attachments import AttachmentError, attach
from flashchat.core.conversation import ToolCall
from flashchat.core.local_tools import LocalTools
tools = LocalTools(Path(sys.argv[1]))
results = [tools.run(ToolCall("read_file", {"path": p})) for p in ("locked.txt", "closed/inner.txt")]
results.append(tools.run(ToolCall("list_directory", {"path": "closed"})))
try:
    attach(["locked.txt"], Path(sys.argv[1]))
except AttachmentError as error:
    results.append({"error": str(error)})
print(json.dumps(results))
"""


def test_permission_denied_is_one_line(tree: Path) -> None:
    """Run in a user namespace of its own, where file modes bind even root (whom they do not stop otherwise)."""
    (tree / "locked.txt").write_text("private\n")
    (tree / "locked.txt").chmod(0)
    (tree / "closed").mkdir()
    (tree / "closed" / "inner.txt").write_text("private\n")
    (tree / "closed").chmod(0)
    try:
        command = ["unshare", "--user", sys.executable, "-c", UNREADABLE, str(tree)]
        run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    finally:
        (tree / "closed").chmod(0o700)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert json.loads(run.stdout) == [
        {"error": "locked.txt: permission denied"},
        {"error": "closed/inner.txt: permission denied"},
        {"error": "closed: permission denied"},
        {"error": "locked.txt: permission denied"},
    ]
