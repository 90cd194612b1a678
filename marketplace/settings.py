"""The only settings module. Everything that differs between machines comes from the environment.

Environment variables (see .env.example; an optional .env file is read, real variables win):

    DJANGO_DEBUG                 default True (embedded development setup)
    DJANGO_SECRET_KEY            required when DEBUG is off
    DJANGO_ALLOWED_HOSTS         comma-separated; default localhost,127.0.0.1,[::1],testserver
    DJANGO_CSRF_TRUSTED_ORIGINS  comma-separated origins behind a proxy
    DATABASE_URL                 default sqlite:///db.sqlite3; production postgres://user:pass@host:5432/db
    CONN_MAX_AGE                 persistent connection seconds, default 60
    REDIS_URL                    Redis for the cache and (by default) the Celery broker
    CELERY_BROKER_URL            another broker; default REDIS_URL, else memory:// (tasks then run eagerly)
    CELERY_TASK_ALWAYS_EAGER     default True when the broker is memory://
    EMAIL_URL                    e.g. smtp+tls://user:pass@smtp.example.com:587; default console
    DEFAULT_FROM_EMAIL           sender of platform e-mail
    SITE_URL                     absolute base used in e-mail links, default http://127.0.0.1:8000
    MEDIA_ROOT                   uploaded files, default ./media
    CREDENTIAL_MAX_UPLOAD_MB     largest credential document accepted, default 10
    API_THROTTLE_ANON / API_THROTTLE_USER / API_THROTTLE_AUTH   DRF rates, e.g. 60/minute
    SECURE_SSL_REDIRECT          production HTTPS redirect, default False
    SESSION_COOKIE_SECURE / CSRF_COOKIE_SECURE   production cookies over HTTPS only, default True
    SECURE_HSTS_SECONDS          production HSTS max-age, default 0 (off)
    LOG_LEVEL                    default INFO
    DEMAND_CHALLENGE_MIN_AWARD   smallest challenge award in yuan, default 10000
    DEMAND_AWARD_GRACE_DAYS      days a closed demand may stay unawarded before it expires, default 60
    DEMAND_RESPONSE_DAYS         days before owners are reminded of unanswered proposals, default 7
    DEMAND_ATTACHMENT_MAX_MB     largest demand or proposal attachment, default 20
    AUCTION_LEAD_HOURS / AUCTION_DURATION_HOURS / AUCTION_EXTENSION_MINUTES   auction timing, default 24 / 2 / 5
    PUBLICITY_DAYS               publicity period of state-funded results, default 15
    INTERCHANGE_DEFAULT_DEADLINE_DAYS   deadline of an imported demand that has none, days from the import, default 90
    INTERCHANGE_REF_PREFIX       prefix of the refs the export generates, unique per platform, default techmarket
    IMPORT_INLINE_MAX_KB         CSV uploads in the admin up to this size import at once, larger ones in Celery; default 2048
    IMPORT_MAX_UPLOAD_MB         largest CSV upload in the admin (a national year is ~250 MB), default 1024
    MATCHING_CORPUS_DIR          where a rebuild's workers on one machine share its corpora; default a directory of
                                 this user's under the system's temporary directory
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(str(BASE_DIR / ".env"))

DEV_SECRET_KEY = "django-insecure-dev-key-only-for-the-embedded-setup"

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and (SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    # Fail fast: a production process with a guessable key signs sessions anyone could forge.
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a real secret (32+ characters) when DEBUG is off."
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "marketplace.apps.MarketplaceConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "demands",
    "listings",
    "contracts",
    "brokers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "marketplace.middleware.ClientLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketplace.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) serve PostgreSQL's index-only scans; the embedded SQLite builds them without the
# extra column, which is harmless at its scale, so its warning is noise.
SILENCED_SYSTEM_CHECKS = (
    ["models.W040"] if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else []
)

# --- Cache ----------------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "marketplace.User"
AUTHENTICATION_BACKENDS = ["marketplace.auth_backends.UsernameOrEmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3
INVITATION_VALID_DAYS = 14

# --- Internationalisation -------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
CREDENTIAL_MAX_UPLOAD_BYTES = env.int("CREDENTIAL_MAX_UPLOAD_MB", default=10) * 1024 * 1024
# CSV imports uploaded in the admin (contracts.services.import_run_create): ~10,000 registrations import within
# the request, bigger files go to a Celery task.
IMPORT_INLINE_MAX_BYTES = env.int("IMPORT_INLINE_MAX_KB", default=2048) * 1024
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_MB", default=1024) * 1024 * 1024
# Django refuses bigger request bodies before our own check; keep it above the document limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = CREDENTIAL_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- E-mail ---------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="网上技术市场 <noreply@techmarket.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_SUBJECT_PREFIX = "[网上技术市场] "

# --- Celery (https://docs.celeryq.dev/en/stable/userguide/configuration.html) --------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL.startswith("memory")
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers an unacknowledged task after this many seconds; tasks are idempotent, so a redelivery is harmless.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_BEAT_SCHEDULE = {
    # Nightly: the current and previous years' reports, and any stored year whose registrations changed.
    "refresh-annual-reports": {
        "task": "contracts.tasks.annual_report_task",
        "schedule": 24 * 60 * 60,
        "options": {"expires": 60 * 60},
    },
    # Hourly: the platform's figures (five grouped queries), fresh enough for a public page.
    "refresh-platform-kpis": {
        "task": "marketplace.tasks.platform_kpis_task",
        "schedule": 60 * 60,
        "options": {"expires": 60 * 60},
    },
    "decide-ended-public-listings": {
        "task": "listings.tasks.public_listing_decide_due_task",
        "schedule": 60,
        "options": {"expires": 60},
    },
    # Every 10 s: an auction's close is its winner's moment; the soft close keeps a late bid fair meanwhile.
    "close-ended-auctions": {
        "task": "listings.tasks.auction_close_due_task",
        "schedule": 10,
        "options": {"expires": 10},
    },
    "certify-publicity": {
        "task": "listings.tasks.publicity_certify_due_task",
        "schedule": 10 * 60,
        "options": {"expires": 10 * 60},
    },
    "close-due-demands": {
        "task": "demands.tasks.demand_close_due_task",
        "schedule": 60,
        "options": {"expires": 60},
    },
    "expire-stale-demands": {
        "task": "demands.tasks.demand_expire_stale_task",
        "schedule": 60 * 60,
        "options": {"expires": 60 * 60},
    },
    "remind-unanswered-proposals": {
        "task": "demands.tasks.proposal_remind_unanswered_task",
        "schedule": 60 * 60,
        "options": {"expires": 60 * 60},
    },
    "expire-stale-invitations": {
        "task": "marketplace.tasks.invitation_expire_stale_task",
        "schedule": 60 * 60,
        "options": {"expires": 60 * 60},
    },
    "send-pending-notification-emails": {
        "task": "marketplace.tasks.notification_email_backlog_task",
        "schedule": 10 * 60,
        "options": {"expires": 10 * 60},
    },
    # Nightly (every 24 h from the beat's start): the full rebuild of the matches, or the resumption of one
    # that a dying worker left unfinished. Incremental matching keeps them fresh in between.
    "send-subscription-digests": {
        "task": "brokers.tasks.digest_send_due_task",
        "schedule": 60 * 60,  # hourly; each user's digest of a day is sent once, the first run after midnight
        "options": {"expires": 60 * 60},
    },
    "rebuild-matches": {
        "task": "brokers.tasks.rebuild_matches_task",
        "schedule": 24 * 60 * 60,
        "options": {"expires": 60 * 60},
    },
}

# --- REST framework -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so unauthenticated API calls get 401 with a WWW-Authenticate header rather than 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "marketplace.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "marketplace.api.throttling.AnonRateThrottle",
        "marketplace.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="120/minute"),
        "user": env("API_THROTTLE_USER", default="600/minute"),
        "auth": env("API_THROTTLE_AUTH", default="10/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "marketplace.api.errors.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Technology Marketplace API",
    "DESCRIPTION": "网上技术市场 API: participants, demands, listings, matches, contracts and statistics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Several models have a "status" field; name each enum after its model rather than letting them collide.
    "ENUM_NAME_OVERRIDES": {
        "OrganizationStatusEnum": "marketplace.models.organizations.OrganizationStatus",
        "DemandStatusEnum": "demands.models.DemandStatus",
        "DemandModeEnum": "demands.models.DemandMode",
        "DemandRevisionStatusEnum": "demands.models.DemandRevision.Status",
        "ContactPolicyEnum": "demands.models.ContactPolicy",
        "ProposalStatusEnum": "demands.models.ProposalStatus",
        "RejectionReasonEnum": "demands.models.RejectionReason",
        "CooperationModeEnum": "marketplace.taxonomy.CooperationMode",
        "ListingStatusEnum": "listings.models.ListingStatus",
        "PublicListingStatusEnum": "listings.models.PublicListingStatus",
        "AuctionStatusEnum": "listings.models.AuctionStatus",
        "PublicityStatusEnum": "listings.models.PublicityStatus",
        "ObjectionStatusEnum": "listings.models.Objection.Status",
        "DealViaEnum": "listings.models.Deal.Via",
        "ListingTypeEnum": "marketplace.taxonomy.ListingType",
        "MaturityEnum": "marketplace.taxonomy.Maturity",
        "TransferModeEnum": "marketplace.taxonomy.TransferMode",
        # Two models have a "kind" field: the credential documents' keep the name they had alone.
        "KindEnum": "marketplace.models.CredentialDocument.Kind",
        "SubscriptionKindEnum": "brokers.models.Subscription.Kind",
    },
}

# --- Security -------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)

# --- Logging --------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # One line per eagerly run task, and kombu's notice about memory://, drown the development server log.
        "celery.app.trace": {"level": "WARNING"},
        "kombu.connection": {"level": "ERROR"},
    },
}

PLATFORM_NAME = _("Online Technology Market")

# --- Demands (SPEC §4) ----------------------------------------------------------------------------------
# Challenges below this award are refused: a challenge must be worth a solver's effort.
DEMAND_CHALLENGE_MIN_AWARD = env.int("DEMAND_CHALLENGE_MIN_AWARD", default=10_000)
# A closed demand with no award after this many days expires (keeps outdated problems off the market).
DEMAND_AWARD_GRACE_DAYS = env.int("DEMAND_AWARD_GRACE_DAYS", default=60)
# Owners are reminded of proposals left unanswered this many days; the response rate uses the same window.
DEMAND_RESPONSE_DAYS = env.int("DEMAND_RESPONSE_DAYS", default=7)
DEMAND_ATTACHMENT_MAX_BYTES = env.int("DEMAND_ATTACHMENT_MAX_MB", default=20) * 1024 * 1024

# --- Listings, auctions and publicity (SPEC §5) -------------------------------------------------------------
AUCTION_LEAD_HOURS = env.int("AUCTION_LEAD_HOURS", default=24)  # notice between the decision and the start
AUCTION_DURATION_HOURS = env.int("AUCTION_DURATION_HOURS", default=2)
AUCTION_EXTENSION_MINUTES = env.int("AUCTION_EXTENSION_MINUTES", default=5)  # soft close window (延时周期)
PUBLICITY_DAYS = env.int("PUBLICITY_DAYS", default=15)
# The record interchange (SPEC §9.1): a demand line with a null deadline gets this many days from the import.
INTERCHANGE_DEFAULT_DEADLINE_DAYS = env.int("INTERCHANGE_DEFAULT_DEADLINE_DAYS", default=90)
# Prefix of the refs the export generates for records that have none ("<prefix>-demand-<id>"); unique per platform.
INTERCHANGE_REF_PREFIX = env("INTERCHANGE_REF_PREFIX", default="techmarket")
MATCHING_CORPUS_DIR = env("MATCHING_CORPUS_DIR", default="")
