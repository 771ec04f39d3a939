"""Safety: noticing a seeker in crisis, and supporter misconduct, in what is written.

Detection only, so far (docs/safety.md): `safety.detection.detect` reads one message (a
phrase lexicon plus a small offline model, both kept as data in this folder) and
`manage.py safety_scan` runs it over ESConv files or a collection run. Nothing acts on a
flag during a live chat yet.
"""
