import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "todoproject.settings")

django_application = get_asgi_application()

from todos.api.fastlane import FastLane  # noqa: E402  (needs the app registry ready)

application = FastLane(django_application)
