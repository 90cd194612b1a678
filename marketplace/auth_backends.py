from django.contrib.auth.backends import ModelBackend

from marketplace.models import User


class UsernameOrEmailBackend(ModelBackend):
    """Log in with either the username or the e-mail address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        login = username or kwargs.get(User.USERNAME_FIELD) or kwargs.get("email")
        if not login or password is None:
            return None
        try:
            user = User.objects.get_by_login(login)
        except (User.DoesNotExist, User.MultipleObjectsReturned):
            # Run the hasher anyway so response time does not reveal which logins exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
