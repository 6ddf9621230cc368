from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from todos import health, metrics
from todos.pages import views as pages

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.view, name="metrics"),
    path("api/", include("todos.api.urls")),
    path("admin/", admin.site.urls),
    path("accounts/login/", pages.LoginView.as_view(), name="login"),
    path("accounts/logout/", pages.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", pages.signup, name="signup"),
    path("accounts/settings/", pages.account, name="account"),
    path("", include("todos.pages.urls")),
]

# JSON under /api/, Django's pages elsewhere.
handler400 = "todos.api.errors.bad_request"
handler404 = "todos.api.errors.page_not_found"
handler500 = "todos.api.errors.server_error"

# The toolbar's URLs exist only in DEBUG (its app and middleware are added in settings then too).
if settings.DEBUG:
    from debug_toolbar.toolbar import debug_toolbar_urls

    urlpatterns += debug_toolbar_urls()
