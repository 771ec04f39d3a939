"""The error every quality-control service raises for a request the rules refuse."""

from __future__ import annotations


class QualityError(Exception):
    """A request the quality rules refuse; the message is shown to the user as is."""
