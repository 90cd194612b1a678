from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from marketplace import services
from marketplace.exceptions import ApplicationError
from marketplace.forms import LoginForm, ProfileForm, QueuedPasswordResetForm, SignupForm
from marketplace.models import User
from marketplace.views.helpers import form_apply_error


def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_signup(
                username=data["username"],
                email=data["email"],
                password=data["password1"],
                full_name=data["full_name"],
            )
        except ValidationError as exc:
            form_apply_error(form, exc)
        else:
            login(request, user, backend="marketplace.auth_backends.UsernameOrEmailBackend")
            messages.success(
                request, _("Welcome! We have sent a verification link to %(email)s.") % {"email": user.email}
            )
            return redirect("dashboard")
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def verify_email(request, uidb64, token):
    try:
        user = User.objects.get(pk=urlsafe_base64_decode(uidb64).decode())
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        user = None
    if user is None:
        messages.error(
            request,
            _("This verification link is invalid or has expired. Request a new one from your dashboard."),
        )
        return redirect("home")
    try:
        services.user_verify_email(user=user, token=token)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your e-mail address is verified."))
    return redirect("dashboard" if request.user.is_authenticated else "accounts:login")


@login_required
@require_POST
def resend_verification(request):
    try:
        services.user_send_verification_email(user=request.user)
    except ApplicationError as exc:
        messages.info(request, exc.message)
    else:
        messages.success(
            request, _("We have sent a new verification link to %(email)s.") % {"email": request.user.email}
        )
    return redirect("dashboard")


@login_required
def profile(request):
    user = request.user
    initial = {"full_name": user.full_name, "phone": user.phone, "email": user.email}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(user=user, **form.cleaned_data)
        except ValidationError as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("Your profile has been saved."))
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/form_page.html"
    success_url = reverse_lazy("dashboard")
    extra_context = {"title": gettext_lazy("Change password")}

    def form_valid(self, form):
        messages.success(self.request, _("Your password has been changed."))
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/form_page.html"
    email_template_name = "emails/password_reset.txt"
    subject_template_name = "emails/password_reset_subject.txt"
    form_class = QueuedPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")
    extra_context = {"title": gettext_lazy("Reset your password")}


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/message.html"
    extra_context = {
        "title": gettext_lazy("Check your e-mail"),
        "text": gettext_lazy(
            "If an account uses that address, a link to choose a new password is on its way."
        ),
    }


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/form_page.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    extra_context = {"title": gettext_lazy("Choose a new password")}


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/message.html"
    extra_context = {
        "title": gettext_lazy("Password changed"),
        "text": gettext_lazy("You can now log in with your new password."),
    }
