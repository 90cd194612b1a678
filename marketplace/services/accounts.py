from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from marketplace.exceptions import ApplicationError
from marketplace.models import User
from marketplace.services.notifications import bilingual_subject, bilingual_text, email_send
from marketplace.tokens import email_verification_token


def user_signup(*, username: str, email: str, password: str, full_name: str = "") -> User:
    """Create an account and send the e-mail verification link (after commit)."""
    email = User.objects.normalize_email(email).strip()
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is already taken.")})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("An account with this e-mail address already exists.")})
    user = User(username=username, email=email, full_name=full_name.strip())
    validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            user_send_verification_email(user=user)
    except IntegrityError:
        # Lost a race with a simultaneous sign-up for the same name or address.
        raise ValidationError(_("An account with this username or e-mail address already exists.")) from None
    return user


def verification_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = email_verification_token.make_token(user)
    return settings.SITE_URL + reverse("accounts:verify_email", kwargs={"uidb64": uid, "token": token})


def user_send_verification_email(*, user: User) -> None:
    if user.is_email_verified:
        raise ApplicationError(_("This e-mail address is already verified."), code="already_verified")
    context = {"user": user, "link": verification_link(user)}
    email_send(
        subject=settings.EMAIL_SUBJECT_PREFIX + bilingual_subject(lambda: _("Confirm your e-mail address")),
        body=bilingual_text(lambda: render_to_string("emails/verify_email.txt", context)),
        recipients=[user.email],
    )


def user_verify_email(*, user: User, token: str) -> User:
    if user.is_email_verified:
        return user
    if not email_verification_token.check_token(user, token):
        raise ApplicationError(
            _("This verification link is invalid or has expired. Request a new one from your dashboard."),
            code="bad_token",
        )
    User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(email_verified_at=timezone.now())
    user.refresh_from_db(fields=["email_verified_at"])
    return user


def user_update_profile(*, user: User, full_name: str, phone: str, email: str | None = None) -> User:
    """Update the profile; a changed e-mail address must be verified again."""
    email_changed = False
    with transaction.atomic():
        user.full_name = full_name.strip()
        user.phone = phone.strip()
        if email is not None:
            email = User.objects.normalize_email(email).strip()
            if email.lower() != user.email.lower():
                if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                    raise ValidationError({"email": _("An account with this e-mail address already exists.")})
                user.email = email
                user.email_verified_at = None
                email_changed = True
        user.save()
        if email_changed:
            user_send_verification_email(user=user)
    return user
