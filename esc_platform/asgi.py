"""ASGI entry point: Django for HTTP, Channels' router for websockets."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "esc_platform.settings")
# A server process: short database and Redis timeouts (esc_platform.settings, PROCESS_KIND).
os.environ.setdefault("ESC_PROCESS_KIND", "web")
django_asgi_app = get_asgi_application()

# Imported after Django is set up: the routing imports models.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from esc_platform.origins import OriginCheck  # noqa: E402
from esc_platform.routing import websocket_urlpatterns  # noqa: E402
from esc_platform.websocket_guard import CloseOnFailure  # noqa: E402
from esc_platform.websocket_session import WebsocketSession  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The Origin must be the site's (scheme, host and port): esc_platform/origins.py. The
        # session is read when first used (esc_platform/websocket_session.py).
        "websocket": CloseOnFailure(
            OriginCheck(WebsocketSession(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# The periodic jobs of the embedded default (`make run`, no broker): esc_platform/scheduler.py.
from esc_platform.scheduler import with_embedded_scheduler  # noqa: E402

application = with_embedded_scheduler(application)
