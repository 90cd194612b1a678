from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from demands import selectors as demand_selectors
from marketplace import selectors, services
from marketplace.exceptions import ApplicationError
from marketplace.filters import OrganizationFilter
from marketplace.forms import (
    DocumentForm,
    InvitationForm,
    JoinRequestForm,
    OrganizationCreateForm,
    OrganizationProfileForm,
    ResubmitForm,
)
from marketplace.models import CredentialDocument, Invitation, JoinRequest, Membership, Organization, Region
from marketplace.permissions import can_act_as_verified
from marketplace.taxonomy import OrganizationType
from marketplace.views.helpers import form_apply_error


def _admin_organization(request, pk) -> Organization:
    organization = selectors.organization_get_for_user(user=request.user, pk=pk)
    if not (
        request.user.is_staff
        or selectors.user_is_organization_admin(user=request.user, organization=organization)
    ):
        raise PermissionDenied(_("Only an administrator of this organization can do this."))
    return organization


def organization_list(request):
    # The public directory shows verified organizations only, whatever "status" a visitor puts in the URL.
    params = request.GET.copy()
    params.pop("status", None)
    filterset = OrganizationFilter(params, queryset=selectors.organization_list_public())
    page = Paginator(filterset.qs.order_by("name"), 20).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "q": params.get("q", ""),
        "org_type": params.get("org_type", ""),
        "region": params.get("region", ""),
        "types": OrganizationType.choices,
        "provinces": Region.objects.filter(level=Region.Level.PROVINCE).order_by("code"),
    }
    return render(request, "organizations/list.html", context)


def organization_detail(request, pk):
    organization = selectors.organization_get_for_user(user=request.user, pk=pk)
    membership = selectors.membership_get(user=request.user, organization=organization)
    is_admin = request.user.is_staff or (membership is not None and membership.is_admin)
    context = {
        "organization": organization,
        "membership": membership,
        "is_admin": is_admin,
        # Contact details are for members and for whoever acts for a verified organization (permissions.py).
        "show_contact": membership is not None or can_act_as_verified(request.user),
        "documents": selectors.organization_documents(organization=organization)
        if (membership or is_admin)
        else [],
        "history": selectors.organization_history(organization=organization)[:20] if is_admin else [],
        "join_form": JoinRequestForm() if request.user.is_authenticated and membership is None else None,
        "resubmit_form": ResubmitForm() if is_admin else None,
        "document_form": DocumentForm() if is_admin else None,
        # Share of received proposals answered in time (SPEC §4); None until one can be judged.
        "response_rate": demand_selectors.organization_response_rate(organization=organization),
        "public_demands": demand_selectors.demand_list_public()
        .filter(owner=organization)
        .order_by("-published_at", "-id")[:10],
    }
    return render(request, "organizations/detail.html", context)


@login_required
def organization_create(request):
    form = OrganizationCreateForm(request.POST or None)
    if not request.user.is_email_verified:
        messages.warning(request, _("Please verify your e-mail address before registering an organization."))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            organization = services.organization_create(
                user=request.user,
                name=data["name"],
                org_type=data["org_type"],
                credit_code=data["credit_code"] or None,
                region_code=data["region"],
                field_codes=data["fields"],
                **{key: data[key] for key in services.organizations.PROFILE_FIELDS},
            )
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is registered and waits for verification. Upload its credential documents now.")
                % {"name": organization.name},
            )
            return redirect("organizations:detail", pk=organization.pk)
    return render(request, "organizations/form.html", {"form": form, "title": _("Register an organization")})


@login_required
def organization_edit(request, pk):
    organization = _admin_organization(request, pk)
    initial = {key: getattr(organization, key) for key in services.organizations.PROFILE_FIELDS}
    initial.update(region=organization.region_id, fields=[f.code for f in organization.fields.all()])
    form = OrganizationProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.organization_update(
                organization=organization,
                actor=request.user,
                region_code=data["region"],
                field_codes=data["fields"],
                **{key: data[key] for key in services.organizations.PROFILE_FIELDS},
            )
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("The profile has been saved."))
            return redirect("organizations:detail", pk=organization.pk)
    title = _("Edit %(name)s") % {"name": organization.name}
    return render(
        request, "organizations/form.html", {"form": form, "title": title, "organization": organization}
    )


@login_required
@require_POST
def document_upload(request, pk):
    organization = _admin_organization(request, pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.credential_document_add(
                organization=organization,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
            )
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("The document has been uploaded."))
            return redirect("organizations:detail", pk=organization.pk)
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("organizations:detail", pk=organization.pk)


@login_required
def document_download(request, document_id):
    """Credential documents are never public: members of the organization and staff only."""
    document = get_object_or_404(CredentialDocument.objects.select_related("organization"), pk=document_id)
    if not (
        request.user.is_staff
        or selectors.membership_get(user=request.user, organization=document.organization)
    ):
        raise Http404
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )


@login_required
@require_POST
def organization_resubmit(request, pk):
    organization = _admin_organization(request, pk)
    form = ResubmitForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.organization_resubmit(organization=organization, actor=request.user, note=note)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Sent back to the reviewers."))
    return redirect("organizations:detail", pk=organization.pk)


@login_required
@require_POST
def join_request(request, pk):
    organization = selectors.organization_get_for_user(user=request.user, pk=pk)
    form = JoinRequestForm(request.POST)
    message = form.cleaned_data["message"] if form.is_valid() else ""
    try:
        services.join_request_create(organization=organization, user=request.user, message=message)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Your request has been sent to the administrators of %(name)s.") % {"name": organization.name},
        )
    return redirect("organizations:detail", pk=organization.pk)


@login_required
def members(request, pk):
    organization = selectors.organization_get_for_user(user=request.user, pk=pk)
    membership = selectors.membership_get(user=request.user, organization=organization)
    if membership is None and not request.user.is_staff:
        raise PermissionDenied(_("Only members of this organization can see its members."))
    is_admin = request.user.is_staff or membership.is_admin
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied(_("Only an administrator of this organization can do this."))
        if form.is_valid():
            try:
                services.invitation_create(organization=organization, actor=request.user, **form.cleaned_data)
            except (ValidationError, ApplicationError) as exc:
                form_apply_error(form, exc)
            else:
                messages.success(
                    request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
                )
                return redirect("organizations:members", pk=organization.pk)
    context = {
        "organization": organization,
        "membership": membership,
        "is_admin": is_admin,
        "members": selectors.organization_members(organization=organization),
        "join_requests": selectors.organization_pending_join_requests(organization=organization)
        if is_admin
        else [],
        "invitations": selectors.organization_pending_invitations(organization=organization)
        if is_admin
        else [],
        "form": form,
        "roles": Membership.Role.choices,
    }
    return render(request, "organizations/members.html", context)


@login_required
@require_POST
def member_change(request, pk, membership_id):
    organization = selectors.organization_get_for_user(user=request.user, pk=pk)
    membership = get_object_or_404(Membership, pk=membership_id, organization=organization)
    try:
        if request.POST.get("action") == "remove":
            services.membership_remove(membership=membership, actor=request.user)
            messages.success(request, _("The member has been removed."))
            if membership.user_id == request.user.pk:
                return redirect("dashboard")
        else:
            services.membership_set_role(
                membership=membership, actor=request.user, role=request.POST.get("role", "")
            )
            messages.success(request, _("The role has been changed."))
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, exc.message if isinstance(exc, ApplicationError) else " ".join(exc.messages))
    return redirect("organizations:members", pk=organization.pk)


@login_required
@require_POST
def join_request_decide(request, request_id):
    join_request = get_object_or_404(
        JoinRequest.objects.select_related("organization", "user"), pk=request_id
    )
    try:
        services.join_request_decide(
            join_request=join_request, actor=request.user, approve=request.POST.get("decision") == "approve"
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The request has been decided."))
    return redirect("organizations:members", pk=join_request.organization_id)


def invitation(request, token):
    invitation = get_object_or_404(
        Invitation.objects.select_related("organization", "invited_by"), token=token
    )
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{request.get_full_path()}")
        try:
            services.invitation_accept(invitation=invitation, user=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Welcome to %(name)s.") % {"name": invitation.organization.name})
            return redirect("organizations:detail", pk=invitation.organization_id)
    return render(request, "organizations/invitation.html", {"invitation": invitation})


@login_required
@require_POST
def invitation_revoke(request, invitation_id):
    invitation = get_object_or_404(Invitation.objects.select_related("organization"), pk=invitation_id)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The invitation has been revoked."))
    return redirect("organizations:members", pk=invitation.organization_id)
