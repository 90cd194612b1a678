from django.core.exceptions import ValidationError

from marketplace.exceptions import ApplicationError


def form_apply_error(form, exc: ValidationError | ApplicationError) -> None:
    """Show a service's refusal on the form: field errors on their fields, the rest on top."""
    if isinstance(exc, ApplicationError):
        form.add_error(None, str(exc.message))
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                for message in error.messages:
                    form.add_error(target, message)
        return
    for message in exc.messages:
        form.add_error(None, message)
