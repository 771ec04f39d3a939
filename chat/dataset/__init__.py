"""Reading and writing ESConv dataset files (SPEC section 8).

`importing` turns a file in one of the three known layouts into conversations; `exporting`
streams conversations back out in the raw or JSON-lines layout.
"""

from __future__ import annotations


class DatasetError(Exception):
    """A dataset file or an export request that cannot be honoured; the message says why."""
