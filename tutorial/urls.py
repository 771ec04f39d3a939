from __future__ import annotations

app_name = "tutorial"

urlpatterns: list = []
