from django.contrib.auth.tokens import PasswordResetTokenGenerator


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Single-use: the hash covers the address and the verification time, so a link dies once used or once
    the address changes. Lifetime is PASSWORD_RESET_TIMEOUT, as for password reset links."""

    key_salt = "marketplace.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        verified = "" if user.email_verified_at is None else user.email_verified_at.replace(microsecond=0)
        return f"{user.pk}{user.email.lower()}{verified}{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()
