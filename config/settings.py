"""Settings, read from the environment through django-environ.

Defaults give the embedded set-up: a SQLite file and Celery tasks run in-process
(``CELERY_TASK_ALWAYS_EAGER``) when no broker is configured.

Accounts and deployment (issue #12, item 6): with ``DEBUG=false`` a ``SECRET_KEY`` is required, and
HTTPS is assumed (SSL redirect, HSTS, secure cookies) unless ``PLAIN_HTTP_INTRANET=true``; logins are
throttled by django-axes; a Content-Security-Policy is sent on every page (django-csp).
"""

import secrets
import sys
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    PLAIN_HTTP_INTRANET=(bool, False),
    TLS_PROXY=(bool, False),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]"]),
    CELERY_BROKER_URL=(str, ""),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
# manage.py commands that answer requests; every other command (migrate, makemigrations, run_scenarios,
# policy_show …) serves nobody and signs nothing that outlives it.
SERVING_COMMANDS = {"runserver", "testserver"}


def _offline_command(argv: list[str]) -> bool:
    return Path(argv[0]).name == "manage.py" and len(argv) > 1 and argv[1] not in SERVING_COMMANDS


SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "dev-only-insecure-key-change-me"
    elif _offline_command(sys.argv):
        SECRET_KEY = secrets.token_urlsafe(50)  # a throwaway random key for this one command, never a known one
    else:
        # Never serve on a missing or known key (sessions, CSRF and signed values would be forgeable): the
        # web server (WSGI, runserver) and the Celery workers refuse to start.
        raise ImproperlyConfigured(
            "SECRET_KEY 未设置：生产环境必须设置 SECRET_KEY（至少 50 个随机字符）；"
            "开发或测试请设置 DEBUG=true，或在 .env 中写入 SECRET_KEY (SECRET_KEY is required when DEBUG is false)."
        )
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "operations.site.BureauAdminConfig",  # django.contrib.admin with the back office's home page and menu
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc served from our own static files
    "import_export",
    "simple_history",
    "django_celery_beat",
    "axes",
    "knox",  # machine tokens: hashed, with expiry, revocable (issue #16 item 5)
    "apiaudit",
    "policy",
    "batch",
    "enrollment",
    "contributions",
    "contributions.retirement",
    "funds",
    "benefits",
    "benefits.institutions",
    "benefits.claims",
    "benefits.registers",
    "operations",
    "devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # last: turns a locked-out login into the lockout page (django-axes)
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

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

WSGI_APPLICATION = "config.wsgi.application"

SILENCED_SYSTEM_CHECKS: list[str] = []
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if env.bool("DATABASE_TRANSACTION_POOLING", default=False):
    # behind PgBouncer in pool_mode=transaction (docs/scale.md): no server-side cursors and no prepared
    # statements, which would outlive the transaction on a server connection shared with other clients
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30})
    # SQLite cannot build the covering (INCLUDE) unique index on personal fund accounts, a PostgreSQL
    # speed-up; uniqueness still holds there through the account code (jurisdiction:kind:person), unique.
    SILENCED_SYSTEM_CHECKS.append("models.W039")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): 5 failures for one username from one address lock that pair for 30
# minutes, for the admin login and the API's session and basic authentication alike.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "enrollment.lockout.lockout_response"
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=0)

# Sessions of a working day that end with the browser.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=9 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# HTTPS (check --deploy gives no warning with DEBUG=false). A plain-HTTP intranet turns it off explicitly.
PLAIN_HTTP_INTRANET = env("PLAIN_HTTP_INTRANET")
_HTTPS = not DEBUG and not PLAIN_HTTP_INTRANET
SECURE_SSL_REDIRECT = _HTTPS
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if _HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _HTTPS
SECURE_HSTS_PRELOAD = _HTTPS
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SESSION_COOKIE_HTTPONLY = True
if env("TLS_PROXY"):  # TLS ends at a reverse proxy that sets X-Forwarded-Proto
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if PLAIN_HTTP_INTRANET:
    # documented choice (README, Settings): no HTTPS on this intranet, so these four cannot hold
    SILENCED_SYSTEM_CHECKS += ["security.W004", "security.W008", "security.W012", "security.W016"]

# Content-Security-Policy (django-csp): scripts only from this site or carrying the page's nonce; the
# admin's and our templates' style attributes need inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],  # ReDoc's search runs in a worker it builds from a blob
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))

LOGIN_URL = "admin:login"

# Large payroll files are uploaded through the admin import screens.
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",  # machines (employers' systems, the tax bureau): Authorization: Token …
        "rest_framework.authentication.SessionAuthentication",  # staff
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "apiaudit.schema.DocumentedErrorsSchema",
    "DEFAULT_FILTER_BACKENDS": ["apiaudit.filters.BoundedFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "apiaudit.pagination.CheckedPageNumberPagination",
    "PAGE_SIZE": 50,
    # /api/v1/… (the old /api/… paths answer as v1); a new version gets its own prefix and changelog entry
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ("v1",),
    "DEFAULT_THROTTLE_CLASSES": ["apiaudit.api.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": env("API_THROTTLE_RATE", default="1200/minute")},
}
# Machine tokens (django-rest-knox): stored hashed, expire, revocable in the admin; renewed by logging in again
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_DAYS", default=90)),
    "TOKEN_LIMIT_PER_USER": env.int("API_TOKENS_PER_USER", default=5),
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "医保经办 API",
    "VERSION": "1.0.0",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # offline: the UI's scripts and styles from drf-spectacular-sidecar, no CDN (issue #19 item 8)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["apiaudit.schema.versioned_only"],
    # several models call their choice field "kind": each choice set gets its own name (import paths only)
    "ENUM_NAME_OVERRIDES": {
        "EntryKindEnum": "funds.models.EntryKind",
        "ImportKindEnum": "contributions.models.ImportKind",
        "RequestKindEnum": "enrollment.requests.models.RequestKind",
    },
    "DESCRIPTION": "职工医保经办接口。机器客户端以令牌访问（Authorization: Token …），工作人员以会话访问；"
    "单位经办员只见本单位数据；写入逐笔审计；按客户端限流。变更记录见 /api/changelog/。",
}

# Printable documents (operations.documents): the public verification page's address in the QR code (default:
# the address the printing user reached) and its limit of look-ups per client (count, seconds).
DOCUMENT_VERIFY_BASE_URL = env("DOCUMENT_VERIFY_BASE_URL", default="")
DOCUMENT_VERIFY_RATE = (
    env.int("DOCUMENT_VERIFY_RATE_COUNT", default=20),
    env.int("DOCUMENT_VERIFY_RATE_SECONDS", default=600),
)

# Celery: with no broker, tasks run in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = "default"
# A queue per kind of work, so that hosts can be given one kind (``celery worker -Q nightly``); a worker started
# without -Q consumes every queue declared here (docs/scale.md).
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name), routing_key=name)
    for name in ("default", "nightly", "imports", "documents", "simulation")
)
CELERY_TASK_ROUTES = {
    "contributions.import_validate": {"queue": "imports"},
    "contributions.import_commit": {"queue": "imports"},
    "claims.settlement_file_process": {"queue": "imports"},
    "operations.documents_bulk": {"queue": "documents"},
}
# Batch chunk tasks (one task name for every job) go to their job's queue (batch.tasks.dispatch_chunk).
BATCH_JOB_QUEUES = {"operations.nightly": "nightly", "operations.simulation": "simulation"}

# Batch work is split into chunks of person ids (ENGINEERING.md, "Batch jobs").
BATCH_CHUNK_SIZE = env.int("BATCH_CHUNK_SIZE", default=10000)
# A job's own chunk size, where the default is not the best: the nightly run's fixed work per chunk (plans over the
# partitioned tables, the describing counts' scans, the bookkeeping) is most of an incremental night, and its
# memory is set by the distinct timelines, not the ids (docs/scale.md §10: 50,000 ids ≈ 260 MB per worker).
BATCH_JOB_CHUNK_SIZES = {"operations.nightly": env.int("NIGHTLY_CHUNK_SIZE", default=50000)}
# A settlement file's run is cut by its claims instead: person-id ranges of about this many draft claims each
# (benefits.claims.jobs; a person's claims are never split). Measured in docs/scale.md §9.
CLAIMS_CHUNK_CLAIMS = env.int("CLAIMS_CHUNK_CLAIMS", default=5000)

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
