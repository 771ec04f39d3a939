"""Reading and writing ESConv dataset files (the layouts are described in docs/dataset.md).

Import: `reading` tells the layout and decodes the file, `validating` checks every record,
`storing` writes the rows and `importing` runs the three as one all-or-nothing import.
Export: `exporting` streams conversations out through `encoding` (one conversation as a
layout's text) and `splitting` (train/valid/test). `layouts` holds what both sides share.
"""

from __future__ import annotations


class DatasetError(Exception):
    """A dataset file or an export request that cannot be honoured; the message says why."""
