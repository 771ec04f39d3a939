"""Authenticity: noticing pasted, templated and scripted messages in what is written.

Only the offline text half exists (docs/authenticity.md): `authenticity.scanning.scan` finds
messages repeated, exactly or nearly, across different conversations, and openings a supporter
reuses, and `manage.py authenticity_scan` runs it over ESConv files or a collection run. The
live half (composition data from the chat page) is not built yet.
"""
