"""Settings for the Todo service, read from the environment (see README.md)."""

from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
HTTPS = env.bool("HTTPS", default=False)
# Production (HTTPS=1) must set SECRET_KEY; the development default is flagged by check --deploy.
SECRET_KEY = env("SECRET_KEY") if HTTPS else env("SECRET_KEY", default="django-insecure-dev-only")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "adrf",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "todos",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "todos.time_zones.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "todos.login_attempts.TooManyLoginAttemptsMiddleware",
]

# Failed logins are counted per username + client address, for the API and the login page alike.
AUTHENTICATION_BACKENDS = ["todos.login_attempts.RateLimitedModelBackend"]

ROOT_URLCONF = "todoproject.urls"
WSGI_APPLICATION = "todoproject.wsgi.application"
ASGI_APPLICATION = "todoproject.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The database and its pool. Sizes follow the seed report: 20 steady + 30 overflow = 50.
# Behind PgBouncer in transaction mode (DB_PGBOUNCER=1) PgBouncer does the pooling, so each worker
# keeps only a few connections to it (docs/scaling.md).
DATABASE_URL = env("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/todos")
DB_PGBOUNCER = env.bool("DB_PGBOUNCER", default=False)
# The pools' minimums are kept open by serving workers only (`manage.py serve` sets SERVING_WORKER=1
# for its server): a management command, a shell or a test opens only the connections it uses.
SERVING_WORKER = env.bool("SERVING_WORKER", default=False)
DB_POOL_MIN_SIZE = env.int("DB_POOL_MIN_SIZE", default=2 if DB_PGBOUNCER else 20)
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=10 if DB_PGBOUNCER else 50)
DB_POOL_TIMEOUT = env.float("DB_POOL_TIMEOUT", default=5.0)
DB_POOL_MAX_WAITING = env.int("DB_POOL_MAX_WAITING", default=200)
DB_POOL_MAX_LIFETIME = env.float("DB_POOL_MAX_LIFETIME", default=3600.0)
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=10)
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=30000)
# How many connections this node's workers may open in all; unset: what the server allows
# (todos/db.py::connection_budget). With several nodes, each node's share.
DB_CONNECTION_BUDGET = env.int("DB_CONNECTION_BUDGET", default=None)
# psycopg's prepare_threshold for pools the project opens itself (the API's async pool). A
# prepared statement lives on one server connection and PgBouncer in transaction mode moves
# clients between them, so None (never prepare) behind it. Django's own pool keeps Django's None.
DB_PREPARE_THRESHOLD = None if DB_PGBOUNCER else env.int("DB_PREPARE_THRESHOLD", default=5)
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=1)
# A SIGTERM'd node (todos/serving.py): /readyz answers 503 at once and the node still serves for
# GRACEFUL_DRAIN_SECONDS (more than the load balancer's checks take to notice), then stops
# accepting, finishes what is in flight, and exits within GRACEFUL_TIMEOUT of the signal.
GRACEFUL_TIMEOUT = env.float("GRACEFUL_TIMEOUT", default=30.0)
GRACEFUL_DRAIN_SECONDS = env.float("GRACEFUL_DRAIN_SECONDS", default=5.0)
API_TOKEN_CACHE_SECONDS = env.float("API_TOKEN_CACHE_SECONDS", default=5.0)

# The API fast lane (todos/api/fastlane.py) has an asyncio pool of its own in each worker.
API_FAST_LANE = env.bool("API_FAST_LANE", default=True)
DB_API_POOL_MIN_SIZE = env.int("DB_API_POOL_MIN_SIZE", default=2)
DB_API_POOL_MAX_SIZE = env.int("DB_API_POOL_MAX_SIZE", default=16)


_database = env.db_url_config(DATABASE_URL)
_database.update(
    CONN_MAX_AGE=0,  # required with the pool, and persistent connections leak under ASGI
    CONN_HEALTH_CHECKS=True,  # the seed's pool_pre_ping: the pool checks on checkout
    # A server-side cursor lives on one server connection: not behind transaction pooling.
    DISABLE_SERVER_SIDE_CURSORS=DB_PGBOUNCER,
    OPTIONS={
        "connect_timeout": DB_CONNECT_TIMEOUT,
        "pool": {
            "min_size": DB_POOL_MIN_SIZE if SERVING_WORKER else 0,
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": DB_POOL_TIMEOUT,
            "max_waiting": DB_POOL_MAX_WAITING,
            "max_lifetime": DB_POOL_MAX_LIFETIME,
        },
    },
)
if not DB_PGBOUNCER:
    # PgBouncer refuses the `options` startup parameter; behind it `manage.py configure_role`
    # sets statement_timeout (and timezone) on the role instead.
    _database["OPTIONS"]["options"] = f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
DATABASES = {"default": _database}
# A streaming replica for reads (todos/replica.py, docs/scaling.md section 6): same options and
# pools as the primary's. Skipped while further behind than DB_REPLICA_MAX_LAG_SECONDS, measured
# every DB_REPLICA_CHECK_SECONDS.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
DB_REPLICA_MAX_LAG_SECONDS = env.float("DB_REPLICA_MAX_LAG_SECONDS", default=10.0)
DB_REPLICA_CHECK_SECONDS = env.float("DB_REPLICA_CHECK_SECONDS", default=1.0)
# The connections this node's workers may open on the replica's server (its pools and lag probe);
# unset: the replica's max_connections less reserved slots. The primary's is DB_CONNECTION_BUDGET.
DB_REPLICA_CONNECTION_BUDGET = env.int("DB_REPLICA_CONNECTION_BUDGET", default=None)
if DATABASE_REPLICA_URL:
    _replica = env.db_url_config(DATABASE_REPLICA_URL)
    _replica.update({key: value for key, value in _database.items() if key not in _replica})
    _replica.update(
        OPTIONS={**_database["OPTIONS"], "pool": dict(_database["OPTIONS"]["pool"])},
        CONN_MAX_AGE=0,
        CONN_HEALTH_CHECKS=True,
    )
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["todos.replica.ReplicaRouter"]
    # Innermost: only the view and its template read from the replica, so that a failed replica
    # read reaches its process_exception and is answered again on the primary.
    MIDDLEWARE.append("todos.replica.ReplicaReadsMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "todos:list"
LOGOUT_REDIRECT_URL = "login"

# Request bodies: a bulk of 1000 todos with long descriptions fits; beyond it, 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# A cache shared by every worker process: rate-limit counters and failed-login counts live here.
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="todos")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        # A stalled Redis must not stall requests: give up quickly (rate limits then fail open).
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

# Server-Sent Events (GET /api/events, docs/sync.md "Events"): open streams per user, counted
# across workers and nodes in Redis (a slot lives EVENTS_SLOT_SECONDS unless its worker renews
# it, so a killed worker's streams stop counting); a comment line every EVENTS_KEEPALIVE_SECONDS;
# what a stream tells its client to wait before reconnecting when it ends for want of Redis or
# the listener. Each worker LISTENs on one connection of its own straight to PostgreSQL:
# EVENTS_LISTEN_URL when the app's connections go through PgBouncer (transaction pooling has no
# LISTEN), else DATABASE_URL's server.
EVENTS_MAX_STREAMS_PER_USER = env.int("EVENTS_MAX_STREAMS_PER_USER", default=10)
EVENTS_KEEPALIVE_SECONDS = env.float("EVENTS_KEEPALIVE_SECONDS", default=15.0)
EVENTS_SLOT_SECONDS = env.float("EVENTS_SLOT_SECONDS", default=60.0)
EVENTS_RETRY_MS = env.int("EVENTS_RETRY_MS", default=3000)
EVENTS_LISTEN_URL = env("EVENTS_LISTEN_URL", default="")

# Writes per user (POST, PUT, PATCH, DELETE) and failed logins per username + address, as
# "count/period" with period second, minute, hour or day. The write default is far above what
# a person or a 50-user load test does, and still stops a runaway client.
THROTTLE_WRITES = env("THROTTLE_WRITES", default="6000/min")
THROTTLE_FAILED_LOGINS = env("THROTTLE_FAILED_LOGINS", default="10/15min")
IDEMPOTENCY_KEY_TTL = env.int("IDEMPOTENCY_KEY_TTL", default=24 * 3600)
# Days the sync feed keeps its tombstones of deletes (todos.sync, docs/sync.md).
SYNC_TOMBSTONE_DAYS = env.int("SYNC_TOMBSTONE_DAYS", default=30)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "todos.api.auth.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["todos.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "todos.api.errors.exception_handler",
    # Bulk errors keyed by the failing item's position: {"3": {"title": [...]}}.
    "LIST_SERIALIZER_ERRORS_AS_DICT": True,
    "DEFAULT_THROTTLE_CLASSES": ["todos.api.throttling.WriteRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Todo service API",
    "DESCRIPTION": "Your own todo list over JSON. See README.md and docs/reliability.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets come from drf-spectacular-sidecar, served by the project (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "todos.api.schema.add_components",
    ],
}

# Production hardening; HTTPS=1 when served behind TLS.
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Load balancers probe health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# A strict Content-Security-Policy on every response Django serves (django-csp): scripts, styles
# and everything else from this origin only, nothing inline (no <script>, <style> or style=""),
# no plugins, no framing, forms posted only here. Images may also be data: URIs (Swagger UI's
# icons). CSP_REPORT_ONLY=1 sends it as Content-Security-Policy-Report-Only for a rollout, and
# CSP_REPORT_URI says where browsers report violations. The API's JSON endpoints go without
# it: the fast lane serves most of their calls without Django's middleware, and both doors must
# answer alike (the API docs page keeps it).
_csp_report_uri = env("CSP_REPORT_URI", default="")
_csp = {
    "EXCLUDE_URL_PREFIXES": [
        "/api/todo",
        "/api/lists",
        "/api/events",
        "/api/auth/",
        "/api/debug/",
        "/api/schema/",
    ],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        **({"report-uri": _csp_report_uri} if _csp_report_uri else {}),
    },
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp
else:
    CONTENT_SECURITY_POLICY = _csp

if DEBUG:
    INSTALLED_APPS += ["debug_toolbar"]
    MIDDLEWARE.insert(0, "debug_toolbar.middleware.DebugToolbarMiddleware")
    INTERNAL_IPS = ["127.0.0.1", "::1"]

# Metrics and request logs (docs/operations.md). METRICS_ENABLED=0 leaves the ASGI application
# unwrapped: no counting, no request ids, no request log lines (what the cost is measured against).
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
# How often each worker writes its pools' figures and requests in flight for the others' scrapes.
METRICS_REFRESH_SECONDS = env.float("METRICS_REFRESH_SECONDS", default=1.0)
# json: one JSON object per line, for a log shipper; text: for a human at a terminal.
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "todos.request_log.JsonLines"},
        "text": {"()": "todos.request_log.TextLines"},
    },
    "handlers": {
        "console": {
            "class": "todos.request_log.ConsoleHandler",
            "formatter": "text" if LOG_FORMAT == "text" else "json",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
    "loggers": {
        # One line per request, whatever LOG_LEVEL is; LOG_REQUESTS=0 silences them.
        "todos.requests": {
            "level": "INFO" if env.bool("LOG_REQUESTS", default=True) else "WARNING"
        },
        # uvicorn's lines in a worker go the same way (it set up its own handler before Django).
        "uvicorn": {"handlers": ["console"], "propagate": False},
        # Named, or configuring "uvicorn" would turn its access log back on: the request
        # lines above replace it.
        "uvicorn.access": {"handlers": [], "propagate": False},
    },
}
