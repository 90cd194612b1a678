from django.conf import settings

from marketplace import selectors


def site(request):
    unread = 0
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        unread = selectors.notification_unread_count(user=request.user)
    return {"PLATFORM_NAME": settings.PLATFORM_NAME, "unread_notifications": unread}
