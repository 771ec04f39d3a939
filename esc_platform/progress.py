"""Progress of the batch jobs: a tqdm bar on a terminal, silence otherwise, and a last line.

Import, export, quality control and the payment export (docs/dataset.md, docs/quality.md) make
one `Progress` each. The service advances it as records go by; the management command creates
it on its stderr, so the bar is drawn only when stderr is a terminal (a cron job, a pipe or a
log file gets no control characters), and ends with `progress.summary(...)`: "exported 1,234
conversations in 2.1 s".
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO

from tqdm import tqdm


def _terminal_stream(stream: Any) -> TextIO:
    """The file under a Django OutputWrapper (which would append a newline to every redraw)."""
    return getattr(stream, "_out", stream)


def is_terminal(stream: Any) -> bool:
    isatty = getattr(_terminal_stream(stream), "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed file
        return False


def plural(count: int, noun: str) -> str:
    """1,234 conversations; 1 conversation (nouns here take a plain -s)."""
    return f"{count:,} {noun if count == 1 else noun + 's'}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


class Progress:
    """Counts one job's records and times it; draws a bar only on a terminal.

    `Progress.quiet()` is the one services use when no caller asked for progress. The bar's
    total may be unknown at first (`set_total` when the job knows it).
    """

    def __init__(
        self,
        label: str,
        *,
        noun: str = "conversation",
        total: int | None = None,
        stream: Any = None,
        bar: bool | None = None,
    ) -> None:
        self.label = label
        self.noun = noun
        self.count = 0
        self.started = time.perf_counter()
        target = _terminal_stream(sys.stderr if stream is None else stream)
        draw = is_terminal(target) if bar is None else bar
        self._bar = tqdm(
            total=total,
            desc=label,
            unit=f" {noun}s",
            file=target,
            disable=not draw,
            dynamic_ncols=True,
            leave=False,
        )

    @classmethod
    def quiet(cls, label: str = "", *, noun: str = "conversation") -> Progress:
        return cls(label, noun=noun, bar=False)

    @property
    def drawing(self) -> bool:
        return not self._bar.disable

    def set_total(self, total: int) -> None:
        self._bar.reset(total=total)
        self._bar.update(self.count)

    def advance(self, n: int = 1) -> None:
        self.count += n
        self._bar.update(n)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def close(self) -> None:
        # Redraw at the end: a job faster than the bar's redraw interval still shows it full,
        # then the bar is cleared for the summary line.
        if self.drawing:
            self._bar.refresh()
        self._bar.close()

    def summary(self, verb: str, count: int | None = None, detail: str = "") -> str:
        """'exported 1,234 conversations in 2.1 s'; `detail` goes before the time."""
        counted = plural(self.count if count is None else count, self.noun)
        return f"{verb} {counted}{' ' + detail if detail else ''} in {duration(self.seconds)}"

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
