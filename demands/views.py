"""Website views of the demands app (SPEC §4, §10): thin — parse the form, call one service or selector, render.

Who may see what is decided in ``demands.selectors`` (confidential details, sealed bids); these views only ask.
"""

import csv
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from brokers import selectors as broker_selectors
from demands import selectors, services
from demands.filters import DemandFilter
from demands.forms import (
    DATETIME_LOCAL,
    PUBLIC_STATUS_CHOICES,
    AnswerForm,
    DemandAttachmentForm,
    DemandForm,
    MessageForm,
    NdaAcceptForm,
    ProposalEditForm,
    ProposalSubmitForm,
    QuestionForm,
    RejectForm,
    VerifyForm,
    WithdrawForm,
)
from demands.models import (
    Demand,
    DemandAttachment,
    DemandRevision,
    Proposal,
    ProposalAttachment,
    Question,
)
from demands.presentation import budget_text
from marketplace import selectors as core_selectors
from marketplace.exceptions import ApplicationError
from marketplace.forms import field_choices
from marketplace.models import Organization, Region
from marketplace.pagination import IdsFirstPaginator
from marketplace.taxonomy import CooperationMode
from marketplace.views.helpers import form_apply_error

S = Demand.Status
P = Proposal.Status
PAGE_SIZE = 20
# After these, the list of bid commitments is published for the bidders to check theirs.
AFTER_CLOSE = (S.CLOSED, S.AWARDED, S.CONTRACTED, S.SOLVED, S.EXPIRED)
EVALUABLE = (S.PUBLISHED, S.CLOSED, S.AWARDED)
EDITABLE = (S.DRAFT, S.REJECTED, S.PENDING_REVIEW, S.PUBLISHED)
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- helpers -----------------------------------------------------------------------------------------------


def _error_message(exc: ValidationError | ApplicationError) -> str:
    if isinstance(exc, ApplicationError):
        return str(exc.message)
    return " ".join(exc.messages)


def _flash_form_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _member_organizations(user) -> list[Organization]:
    return [m.organization for m in core_selectors.user_memberships(user=user).order_by("organization__name")]


def _supplier_organizations(user, demand: Demand) -> list[Organization]:
    """Verified organizations the user may act for on this demand (never the owner itself)."""
    if not user.is_authenticated:
        return []
    return list(
        core_selectors.user_verified_organizations(user=user).exclude(pk=demand.owner_id).order_by("name")
    )


def _own_proposal(request, proposal_id) -> Proposal:
    """A proposal of one of the user's organizations; 404 for anyone else."""
    proposal = get_object_or_404(
        Proposal.objects.select_related("demand", "demand__owner", "supplier"), pk=proposal_id
    )
    if not core_selectors.membership_get(user=request.user, organization=proposal.supplier):
        raise Http404
    return proposal


def _detail_url(demand_or_pk, anchor: str = "") -> str:
    pk = demand_or_pk.pk if isinstance(demand_or_pk, Demand) else demand_or_pk
    return reverse("demands:detail", kwargs={"pk": pk}) + (f"#{anchor}" if anchor else "")


def _filter_params(request):
    """The list's GET parameters; a date alone in a deadline filter covers that whole day."""
    params = request.GET.copy()
    for key, suffix in (("deadline_after", "T00:00:00"), ("deadline_before", "T23:59:59")):
        value = params.get(key, "").strip()
        if DATE_ONLY.match(value):
            params[key] = value + suffix
    params.pop("page", None)
    return params


def _filtered_public_demands(request):
    filterset = DemandFilter(_filter_params(request), queryset=selectors.demand_list_public())
    return filterset, filterset.qs.order_by("-published_at", "-id")


# --- public list, export and verification ---------------------------------------------------------------------


def demand_list(request):
    filterset, qs = _filtered_public_demands(request)
    page = IdsFirstPaginator(qs.defer(*selectors.LIST_DEFERRED), PAGE_SIZE).get_page(request.GET.get("page"))
    get = request.GET
    context = {
        "page": page,
        "filter_errors": filterset.errors,
        "values": {key: get.get(key, "") for key in DemandFilter.base_filters},
        "field_choices": field_choices(),
        "provinces": Region.objects.filter(parent__isnull=True).order_by("code"),
        "modes": Demand.Mode.choices,
        "statuses": PUBLIC_STATUS_CHOICES,
        "cooperation_modes": CooperationMode.choices,
        "export_query": _filter_params(request).urlencode(),
    }
    return render(request, "demands/list.html", context)


def _csv_safe(value) -> str:
    # A cell starting with = + - @ is a formula in spreadsheets; quote it so an export never runs code.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


def demand_export_csv(request):
    """The public list with the current filters, as CSV. Public columns only — never the details."""
    _filterset, qs = _filtered_public_demands(request)
    qs = qs.select_related("owner", "field", "sub_field", "region", "region__parent")
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff"  # so spreadsheet programs read the Chinese text as UTF-8
        yield writer.writerow(
            ["title", "owner", "field", "region", "budget", "deadline", "mode", "status", "url"]
        )
        for demand in qs.iterator(chunk_size=500):
            field = demand.field.name + (f" / {demand.sub_field.name}" if demand.sub_field_id else "")
            yield writer.writerow(
                [
                    _csv_safe(demand.title),
                    _csv_safe(demand.owner.name),
                    field,
                    demand.region.full_name,
                    budget_text(demand),
                    timezone.localtime(demand.deadline).strftime("%Y-%m-%d %H:%M"),
                    demand.get_mode_display(),
                    demand.get_status_display(),
                    request.build_absolute_uri(_detail_url(demand)),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="demands.csv"'
    return response


@require_http_methods(["GET", "POST"])
def verify(request):
    """Anyone checks revealed bid content against a published commitment."""
    form = VerifyForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = services.proposal_verify(
            content=form.cleaned_data["content"], commitment=form.cleaned_data["commitment"]
        )
    return render(request, "demands/verify.html", {"form": form, "result": result})


# --- detail ---------------------------------------------------------------------------------------------------


def _detail_context(request, demand: Demand, **forms) -> dict:
    user = request.user
    is_owner = selectors.demand_is_owner(user=user, demand=demand)
    can_manage = is_owner or (user.is_authenticated and user.is_staff)
    can_see_details = selectors.demand_can_see_details(user=user, demand=demand)
    suppliers = _supplier_organizations(user, demand)

    # The user's own organizations' proposals (a bidder sees theirs, whatever the mode).
    own_proposals = []
    if user.is_authenticated:
        for organization in _member_organizations(user):
            if organization.pk == demand.owner_id:
                continue
            proposal = selectors.proposal_of_organization(demand=demand, organization=organization)
            if proposal is not None:
                proposal.message_form = MessageForm(auto_id=f"id_msg{proposal.pk}_%s")
                own_proposals.append(proposal)
    has_active_proposal = any(p.status != P.WITHDRAWN for p in own_proposals)
    proposed_org_ids = {p.supplier_id for p in own_proposals if p.status != P.WITHDRAWN}

    accepted_org_ids = set()
    if demand.nda_required and suppliers:
        accepted_org_ids = set(
            demand.nda_acceptances.filter(organization__in=suppliers).values_list(
                "organization_id", flat=True
            )
        )
    nda_orgs = [org for org in suppliers if org.pk not in accepted_org_ids] if demand.nda_required else []
    proposal_orgs = [
        org
        for org in suppliers
        if org.pk not in proposed_org_ids and (not demand.nda_required or org.pk in accepted_org_ids)
    ]

    context = {
        "demand": demand,
        "budget": budget_text(demand),
        "is_owner": is_owner,
        "can_manage": can_manage,
        "can_see_details": can_see_details,
        "attachments": demand.attachments.all() if can_see_details else [],
        "questions": list(selectors.question_list(demand=demand)),
        "suppliers": suppliers,
        "own_proposals": own_proposals,
        "proposal_count": selectors.proposal_count_visible(user=user, demand=demand) if can_manage else None,
        "is_sealed": demand.is_sealed,
        "nda_accepted": bool(accepted_org_ids),
        "show_commitments": demand.status in AFTER_CLOSE and (bool(own_proposals) or can_manage),
        "recommendations": broker_selectors.demand_recommendations(demand=demand)
        if broker_selectors.demand_matches_visible_to(user=user, demand=demand)
        else None,
    }

    # Contact details of the owner, by the demand's contact policy.
    policy = demand.contact_policy
    context["show_contact"] = (
        can_manage
        or policy == Demand.ContactPolicy.PUBLIC
        or (policy == Demand.ContactPolicy.AFTER_PROPOSAL and (has_active_proposal or can_see_details))
    )

    if context["show_commitments"]:
        context["commitments"] = selectors.commitments_published(demand=demand)

    if demand.nda_required and nda_orgs and demand.status in (S.PUBLISHED, S.CLOSED) and not can_see_details:
        context["nda_form"] = forms.get("nda_form") or NdaAcceptForm(organizations=nda_orgs)
    if suppliers and demand.accepts_proposals:
        context["question_form"] = forms.get("question_form") or QuestionForm(organizations=suppliers)
    if proposal_orgs and demand.accepts_proposals:
        context["proposal_form"] = forms.get("proposal_form") or ProposalSubmitForm(
            organizations=proposal_orgs
        )

    if can_manage:
        if not demand.is_sealed:
            proposals = list(
                selectors.proposal_list_for_demand(user=user, demand=demand).prefetch_related(
                    "attachments", "messages", "messages__author_organization"
                )
            )
            for proposal in proposals:
                proposal.reject_form = RejectForm(auto_id=f"id_rej{proposal.pk}_%s")
                proposal.message_form = MessageForm(auto_id=f"id_msg{proposal.pk}_%s")
            context["proposals"] = proposals
        context["evaluable"] = demand.status in EVALUABLE and not demand.is_sealed
        context["awardable"] = demand.status in (S.CLOSED, S.AWARDED)
        for question in context["questions"]:
            question.answer_form = AnswerForm(auto_id=f"id_q{question.pk}_%s")
        context["pending_revision"] = demand.revisions.filter(status=DemandRevision.Status.PENDING).first()
        context["last_revision"] = demand.revisions.exclude(status=DemandRevision.Status.SUPERSEDED).first()
        context["owner_verified"] = demand.owner.is_verified
        context["can_edit"] = demand.status in EDITABLE
        context["can_submit"] = demand.status in (S.DRAFT, S.REJECTED)
        context["can_withdraw"] = demand.status in (S.DRAFT, S.PENDING_REVIEW, S.PUBLISHED, S.REJECTED)
        context["can_close"] = demand.status == S.PUBLISHED
        context["can_mark_solved"] = demand.status == S.CONTRACTED
        context["withdraw_form"] = forms.get("withdraw_form") or WithdrawForm()
        if context["can_edit"]:
            context["attachment_form"] = forms.get("attachment_form") or DemandAttachmentForm()
    return context


def demand_detail(request, pk):
    demand = selectors.demand_get_for_user(user=request.user, pk=pk)
    return render(request, "demands/detail.html", _detail_context(request, demand))


# --- posting and editing ----------------------------------------------------------------------------------------


def _add_attachments(request, demand: Demand, files) -> bool:
    ok = True
    for uploaded in files:
        try:
            services.demand_attachment_add(demand=demand, actor=request.user, uploaded=uploaded)
        except (ValidationError, ApplicationError) as exc:
            ok = False
            messages.error(request, f"{uploaded.name}: {_error_message(exc)}")
    return ok


def _submit_for_review(request, demand: Demand) -> None:
    try:
        services.demand_submit(demand=demand, actor=request.user)
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, _error_message(exc))
        messages.info(request, _("The demand is saved as a draft."))
    else:
        messages.success(
            request, _("The demand is sent to review. It appears on the market once a reviewer approves it.")
        )


@login_required
def demand_create(request):
    organizations = _member_organizations(request.user)
    if not organizations:
        messages.warning(request, _("Register your organization (or join one) before posting a demand."))
        return redirect("organizations:create")
    form = DemandForm(
        request.POST or None,
        request.FILES or None,
        organizations=organizations,
        initial={"mode": Demand.Mode.OPEN, "max_winners": 1, "contact_policy": Demand.ContactPolicy.PLATFORM},
    )
    if request.method == "POST" and form.is_valid():
        try:
            demand = services.demand_create(
                owner=form.cleaned_data["organization"], actor=request.user, **form.demand_data()
            )
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            _add_attachments(request, demand, form.cleaned_data["attachments"])
            if request.POST.get("action") == "submit":
                _submit_for_review(request, demand)
            else:
                messages.success(request, _("The draft is saved. Submit it for review when it is ready."))
            return redirect(_detail_url(demand))
    context = {
        "form": form,
        "title": _("Post a technical demand"),
        "unverified": [org for org in organizations if not org.is_verified],
        "can_submit": True,
    }
    return render(request, "demands/form.html", context)


def _edit_initial(demand: Demand, revision: DemandRevision | None) -> dict:
    initial = {key: getattr(demand, key) for key in services.EDITABLE_FIELDS}
    initial.update(field=demand.field_id, sub_field=demand.sub_field_id or "", region=demand.region_id)
    if revision is not None:
        # Build on the edit that waits for review, so a second edit does not silently drop the first.
        changes = dict(revision.changes)
        if changes.get("deadline"):
            changes["deadline"] = parse_datetime(changes["deadline"])
        initial.update({key: value for key, value in changes.items() if key in initial})
    if initial.get("deadline"):
        initial["deadline"] = timezone.localtime(initial["deadline"])
    return initial


@login_required
def demand_edit(request, pk):
    demand = selectors.demand_get_for_owner(user=request.user, pk=pk)
    if demand.status not in EDITABLE:
        messages.error(
            request,
            _("A demand that is %(status)s can no longer be edited.")
            % {"status": demand.get_status_display()},
        )
        return redirect(_detail_url(demand))
    revision = demand.revisions.filter(status=DemandRevision.Status.PENDING).first()
    form = DemandForm(request.POST or None, request.FILES or None, initial=_edit_initial(demand, revision))
    if demand.status == S.PUBLISHED:
        form.fields["mode"].disabled = True
        form.fields["mode"].help_text = _("The mode of a published demand cannot change.")
    if request.method == "POST" and form.is_valid():
        data = form.demand_data()
        # The form keeps minutes; an unchanged deadline must not count as an edit.
        current = timezone.localtime(demand.deadline)
        if data.get("deadline") and data["deadline"].strftime(DATETIME_LOCAL) == current.strftime(
            DATETIME_LOCAL
        ):
            data["deadline"] = demand.deadline
        files = form.cleaned_data["attachments"]
        result = None
        try:
            result = services.demand_update(demand=demand, actor=request.user, **data)
        except ApplicationError as exc:
            if not (exc.code == "no_changes" and files):
                form_apply_error(form, exc)
        except ValidationError as exc:
            form_apply_error(form, exc)
        if not form.errors:
            _add_attachments(request, demand, files)
            if isinstance(result, DemandRevision):
                messages.success(
                    request,
                    _(
                        "Your edit is waiting for review; the public version stays visible until it is approved."
                    ),
                )
            elif result is None:
                messages.success(request, _("The attachments have been added."))
            elif request.POST.get("action") == "submit" and result.status in (S.DRAFT, S.REJECTED):
                _submit_for_review(request, result)
            else:
                messages.success(request, _("The demand has been saved."))
            return redirect(_detail_url(demand))
    context = {
        "form": form,
        "demand": demand,
        "title": _("Edit “%(title)s”") % {"title": demand.title},
        "pending_revision": revision,
        "unverified": [] if demand.owner.is_verified else [demand.owner],
        "can_submit": demand.status in (S.DRAFT, S.REJECTED),
    }
    return render(request, "demands/form.html", context)


@login_required
@require_POST
def demand_attachments(request, pk):
    demand = selectors.demand_get_for_owner(user=request.user, pk=pk)
    form = DemandAttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        if _add_attachments(request, demand, form.cleaned_data["files"]):
            messages.success(request, _("The attachments have been added."))
    else:
        _flash_form_errors(request, form)
    return redirect(_detail_url(demand, "attachments"))


@login_required
@require_POST
def demand_submit(request, pk):
    demand = selectors.demand_get_for_owner(user=request.user, pk=pk)
    _submit_for_review(request, demand)
    return redirect(_detail_url(demand))


@login_required
@require_POST
def demand_withdraw(request, pk):
    demand = selectors.demand_get_for_owner(user=request.user, pk=pk)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.demand_withdraw(demand=demand, actor=request.user, reason=reason)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The demand has been withdrawn."))
    return redirect(_detail_url(demand))


@login_required
@require_POST
def demand_close(request, pk):
    demand = selectors.demand_get_for_owner(user=request.user, pk=pk)
    try:
        closed = services.demand_close(demand=demand, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if closed:
            messages.success(request, _("The demand is closed. You can now evaluate the proposals."))
        else:
            messages.error(request, _("Only a published demand can be closed."))
    return redirect(_detail_url(demand))


@login_required
@require_POST
def demand_mark_solved(request, pk):
    demand = selectors.demand_get_for_owner(user=request.user, pk=pk)
    try:
        services.demand_mark_solved(demand=demand, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The problem is marked as solved."))
    return redirect(_detail_url(demand))


# --- downloads ----------------------------------------------------------------------------------------------


def _file_response(attachment) -> FileResponse:
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


def demand_attachment_download(request, attachment_id):
    """Confidential like the details: 404 unless ``demand_can_see_details``."""
    attachment = get_object_or_404(DemandAttachment, pk=attachment_id)
    demand = selectors.demand_get_for_user(user=request.user, pk=attachment.demand_id)
    if not selectors.demand_can_see_details(user=request.user, demand=demand):
        raise Http404
    return _file_response(attachment)


def proposal_attachment_download(request, attachment_id):
    """The bidder's organization, and the owner and staff once the bids are open; 404 for everyone else."""
    attachment = get_object_or_404(ProposalAttachment, pk=attachment_id)
    selectors.proposal_get_for_user(user=request.user, pk=attachment.proposal_id)
    return _file_response(attachment)


# --- suppliers: NDA, questions, proposals ------------------------------------------------------------------------


def _login_first(request, demand):
    if not request.user.is_authenticated:
        return redirect_to_login(_detail_url(demand))
    return None


@require_POST
def nda_accept(request, pk):
    demand = selectors.demand_get_for_user(user=request.user, pk=pk)
    if response := _login_first(request, demand):
        return response
    form = NdaAcceptForm(request.POST, organizations=_supplier_organizations(request.user, demand))
    if not form.is_valid():
        return render(
            request, "demands/detail.html", _detail_context(request, demand, nda_form=form), status=400
        )
    try:
        services.nda_accept(demand=demand, organization=form.cleaned_data["organization"], actor=request.user)
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, _error_message(exc))
    else:
        messages.success(
            request, _("NDA accepted. The confidential details are now visible to your organization.")
        )
    return redirect(_detail_url(demand, "details"))


@require_POST
def question_ask(request, pk):
    demand = selectors.demand_get_for_user(user=request.user, pk=pk)
    if response := _login_first(request, demand):
        return response
    form = QuestionForm(request.POST, organizations=_supplier_organizations(request.user, demand))
    if form.is_valid():
        try:
            services.question_ask(
                demand=demand,
                organization=form.cleaned_data["organization"],
                actor=request.user,
                text=form.cleaned_data["text"],
            )
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("Your question has been sent. The answer will appear on this page."))
            return redirect(_detail_url(demand, "questions"))
    return render(
        request, "demands/detail.html", _detail_context(request, demand, question_form=form), status=400
    )


@login_required
@require_POST
def question_answer(request, question_id):
    question = get_object_or_404(Question, pk=question_id)
    demand = selectors.demand_get_for_owner(user=request.user, pk=question.demand_id)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.question_answer(
                question=question, actor=request.user, answer=form.cleaned_data["answer"]
            )
        except (ValidationError, ApplicationError) as exc:
            messages.error(request, _error_message(exc))
        else:
            messages.success(request, _("Your answer is published."))
    else:
        _flash_form_errors(request, form)
    return redirect(_detail_url(demand, "questions"))


@require_POST
def proposal_submit(request, pk):
    demand = selectors.demand_get_for_user(user=request.user, pk=pk)
    if response := _login_first(request, demand):
        return response
    form = ProposalSubmitForm(
        request.POST, request.FILES, organizations=_supplier_organizations(request.user, demand)
    )
    if form.is_valid():
        try:
            proposal, receipt = services.proposal_submit(
                demand=demand,
                supplier=form.cleaned_data["organization"],
                actor=request.user,
                attachments=form.cleaned_data["attachments"],
                **form.bid_data(),
            )
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            messages.success(
                request, _("Your proposal is submitted. Keep this receipt: it proves what you submitted.")
            )
            return redirect("demands:receipt", proposal_id=proposal.pk)
    return render(
        request, "demands/detail.html", _detail_context(request, demand, proposal_form=form), status=400
    )


@login_required
def proposal_edit(request, proposal_id):
    proposal = _own_proposal(request, proposal_id)
    demand = proposal.demand
    if proposal.status != P.SUBMITTED or not demand.accepts_proposals:
        messages.error(request, _("This proposal can no longer be edited."))
        return redirect(_detail_url(demand, "your-proposal"))
    initial = {key: getattr(proposal, key) for key in ("approach", "price", "duration_days", "team")}
    form = ProposalEditForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        files = form.cleaned_data["attachments"]
        try:
            proposal, receipt = services.proposal_update(
                proposal=proposal, actor=request.user, attachments=files or None, **form.bid_data()
            )
        except (ValidationError, ApplicationError) as exc:
            form_apply_error(form, exc)
        else:
            messages.success(
                request,
                _("Version %(version)d of your proposal is saved, with a new receipt.")
                % {"version": receipt.version},
            )
            return redirect("demands:receipt", proposal_id=proposal.pk)
    context = {
        "form": form,
        "proposal": proposal,
        "demand": demand,
        "attachments": proposal.attachments.all(),
        "next_version": proposal.version + 1,
    }
    return render(request, "demands/proposal_form.html", context)


@login_required
@require_POST
def proposal_withdraw(request, proposal_id):
    proposal = _own_proposal(request, proposal_id)
    try:
        services.proposal_withdraw(proposal=proposal, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Your proposal has been withdrawn. You may submit a new one before the deadline.")
        )
    return redirect(_detail_url(proposal.demand_id, "your-proposal"))


@login_required
def proposal_receipt(request, proposal_id):
    """The bidder's receipt: the commitment and the exact content (with its secret nonce) to keep."""
    proposal = _own_proposal(request, proposal_id)
    receipts = list(proposal.receipts.order_by("-version"))
    context = {
        "proposal": proposal,
        "demand": proposal.demand,
        "receipt": receipts[0] if receipts else None,
        "receipts": receipts,
        "content": services.proposal_content(proposal),
    }
    return render(request, "demands/receipt.html", context)


# --- owners: evaluation --------------------------------------------------------------------------------------------


def _evaluation_action(request, proposal_id, action) -> Proposal:
    proposal = selectors.proposal_get_for_user(user=request.user, pk=proposal_id)
    try:
        action(proposal)
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, _error_message(exc))
    return proposal


@login_required
@require_POST
def proposal_shortlist(request, proposal_id):
    def shortlist(proposal):
        services.proposal_shortlist(proposal=proposal, actor=request.user)
        messages.success(request, _("%(name)s is shortlisted.") % {"name": proposal.supplier.name})

    proposal = _evaluation_action(request, proposal_id, shortlist)
    return redirect(_detail_url(proposal.demand_id, f"proposal-{proposal.pk}"))


@login_required
@require_POST
def proposal_reject(request, proposal_id):
    form = RejectForm(request.POST)

    def reject(proposal):
        if not form.is_valid():
            _flash_form_errors(request, form)
            return
        services.proposal_reject(
            proposal=proposal,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("The bidder has been told, with your reason."))

    proposal = _evaluation_action(request, proposal_id, reject)
    return redirect(_detail_url(proposal.demand_id, f"proposal-{proposal.pk}"))


@login_required
@require_POST
def proposal_award(request, proposal_id):
    def award(proposal):
        services.proposal_award(proposal=proposal, actor=request.user)
        messages.success(
            request,
            _(
                "The proposal of %(name)s is awarded. A draft contract is prepared from the demand and the bid."
            )
            % {"name": proposal.supplier.name},
        )

    proposal = _evaluation_action(request, proposal_id, award)
    return redirect(_detail_url(proposal.demand_id, f"proposal-{proposal.pk}"))


@login_required
@require_POST
def proposal_message(request, proposal_id):
    form = MessageForm(request.POST)

    def send(proposal):
        if not form.is_valid():
            _flash_form_errors(request, form)
            return
        services.proposal_message(proposal=proposal, actor=request.user, body=form.cleaned_data["body"])
        messages.success(request, _("Your message has been sent."))

    proposal = _evaluation_action(request, proposal_id, send)
    anchor = f"proposal-{proposal.pk}"
    if core_selectors.membership_get(user=request.user, organization=proposal.supplier):
        anchor = "your-proposal"
    return redirect(_detail_url(proposal.demand_id, anchor))
