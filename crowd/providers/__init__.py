"""Clients of the crowd sites' APIs behind one interface (docs/crowd-sites.md).

`base` defines the interface every site's client implements; `prolific` speaks Prolific's
REST API, `mturk` Amazon Mechanical Turk's through boto3. Credentials come from the
environment only and never reach a log line, an error message or the database.
"""
