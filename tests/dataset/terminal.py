"""A real pseudo-terminal to hand a management command as its stderr, and what it showed.

The batch commands draw a progress bar only when stderr is a terminal (esc_platform.progress);
a pty is one, as far as the command can tell, and everything written to it is read back.
"""

from __future__ import annotations

import fcntl
import os
import struct
import termios
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Screen:
    """What was written to the terminal, once it is closed."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


@contextmanager
def terminal(columns: int = 100) -> Iterator[tuple[TextIO, Screen]]:
    """(a text file on a pty's terminal side, the Screen its output lands on)."""
    controller, tty = os.openpty()
    fcntl.ioctl(tty, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    screen = Screen()

    def read() -> None:
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # EIO: the terminal side was closed and everything was read
                return
            if not data:
                return
            screen.chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stream = os.fdopen(tty, "w", encoding="utf-8", buffering=1)
    try:
        yield stream, screen
    finally:
        stream.close()
        reader.join(10)
        os.close(controller)
