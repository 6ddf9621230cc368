import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")

django_application = get_asgi_application()

from django.conf import settings  # noqa: E402

from todos.api.events import EventsDoor  # noqa: E402  (needs the app registry ready)
from todos.api.fastlane import FastLane  # noqa: E402
from todos.observe import Observed  # noqa: E402

# Event streams on the event loop, the API's calls in the fast lane, the rest to Django.
lane = EventsDoor(FastLane(django_application))
# Metrics, request ids and request logs around everything, lane and Django alike.
application = Observed(lane) if settings.METRICS_ENABLED else lane
