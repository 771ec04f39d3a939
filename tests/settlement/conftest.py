"""The settlement tests run against the crowd sites' local servers."""

from tests.providers.mturk_server import aws_credentials, mturk_server  # noqa: F401
from tests.providers.prolific_server import prolific_server  # noqa: F401
