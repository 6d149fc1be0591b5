"""Keys typed while plain mode is busy (a reply streaming, a command running) wait for the next prompt.

Between prompts the terminal is in its ordinary cooked mode, where the kernel echoes every key at once (into
the middle of the reply being printed) and turns Enter into a line feed as it arrives (ICRNL), which the next
prompt reads as Ctrl-J, "new line": `/thinking high` + Enter typed as a reply finishes would land in the next
prompt as a first line, not run, and be sent with whatever came next.

So while no prompt is reading, the terminal neither echoes nor translates, and keeps no line of its own
(ICANON off: a half-typed line is not the kernel's to edit): the keys stay queued byte for byte, Enter as
Enter, and prompt-toolkit reads them when it next asks. Ctrl-C still raises SIGINT (ISIG stays on), which is
what stops a reply. prompt-toolkit saves this mode when a prompt starts and puts it back when it ends; the
terminal's own mode comes back when plain mode exits.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TextIO


@contextlib.contextmanager
def keys_kept_for_the_next_prompt(stdin: TextIO) -> Iterator[None]:
    """Hold the terminal on `stdin` quiet between prompts for the duration of the block (no-op off a tty)."""
    try:
        fd = stdin.fileno()
    except (AttributeError, OSError, ValueError):  # a test's pipe, a closed stdin
        yield
        return
    if not os.isatty(fd):
        yield
        return
    import termios

    try:
        original = termios.tcgetattr(fd)
    except termios.error:
        yield
        return
    quiet = termios.tcgetattr(fd)
    quiet[0] &= ~(termios.ICRNL | termios.INLCR | termios.IGNCR)  # input flags: Enter stays "\r"
    quiet[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.IEXTEN)  # local flags
    quiet[6][termios.VMIN], quiet[6][termios.VTIME] = 1, 0
    # TCSANOW, not TCSAFLUSH: keys already typed must not be thrown away.
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, original)
