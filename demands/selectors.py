"""Reads of demands and proposals. The confidentiality and sealed-bid rules live here, once, and the website,
the API, exports and e-mails all ask these functions (SPEC §4)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Case, Count, DateTimeField, ExpressionWrapper, F, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from brokers.selectors import broker_is_assigned_to_demand
from demands.models import (
    PUBLIC_STATUSES,
    Demand,
    DemandStatus,
    NdaAcceptance,
    Proposal,
    ProposalStatus,
    Question,
)
from marketplace import selectors as core_selectors
from marketplace.models import Membership, Organization

# Columns a list of demands never shows (the confidential details among them): deferred by list views.
LIST_DEFERRED = ("details", "search_text", "nda_terms", "status_reason")

# --- who may see what ---------------------------------------------------------------------------------------


def _member_org_ids(user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(Membership.objects.filter(user=user).values_list("organization_id", flat=True))


def demand_is_owner(*, user, demand: Demand) -> bool:
    return demand.owner_id in _member_org_ids(user)


def demand_can_see_details(*, user, demand: Demand) -> bool:
    """The one rule for confidential details and attachments.

    Visible to: the owner organization's members, platform staff, the assigned broker, and — on a demand that
    is on the market — members of a verified organization that accepted the NDA terms (when the owner requires
    an NDA) or, without an NDA, any member of a verified organization.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or demand_is_owner(user=user, demand=demand):
        return True
    if broker_is_assigned_to_demand(user=user, demand=demand):
        return True
    if demand.status not in PUBLIC_STATUSES:
        return False
    verified = core_selectors.user_verified_organizations(user=user)
    if not demand.nda_required:
        return verified.exists()
    return NdaAcceptance.objects.filter(demand=demand, organization__in=verified).exists()


def demand_list_public() -> QuerySet[Demand]:
    return Demand.objects.filter(status__in=PUBLIC_STATUSES).select_related(
        "owner", "field", "sub_field", "region", "region__parent"
    )


def demand_list_visible_to(*, user) -> QuerySet[Demand]:
    """Public demands, plus every demand of the user's organizations; staff see everything."""
    qs = Demand.objects.select_related("owner", "field", "sub_field", "region", "region__parent")
    if user.is_authenticated and user.is_staff:
        return qs
    condition = Q(status__in=PUBLIC_STATUSES)
    if user.is_authenticated:
        orgs = list(_member_org_ids(user))
        # Bidders keep seeing a demand they answered after it expired or was withdrawn (their history).
        condition |= Q(owner_id__in=orgs) | Q(
            pk__in=Proposal.objects.filter(supplier_id__in=orgs).values("demand_id")
        )
    return qs.filter(condition)


def demand_get_for_user(*, user, pk) -> Demand:
    """404 (not 403) for demands the user may not see."""
    try:
        return demand_list_visible_to(user=user).get(pk=pk)
    except (Demand.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def demand_get_for_owner(*, user, pk) -> Demand:
    demand = demand_get_for_user(user=user, pk=pk)
    if not (user.is_staff or demand_is_owner(user=user, demand=demand)):
        raise Http404
    return demand


def demand_nda_accepted(*, user, demand: Demand) -> bool:
    verified = core_selectors.user_verified_organizations(user=user)
    return NdaAcceptance.objects.filter(demand=demand, organization__in=verified).exists()


# --- proposals ----------------------------------------------------------------------------------------------


def proposal_list_for_demand(*, user, demand: Demand) -> QuerySet[Proposal]:
    """The proposals of a demand that ``user`` may read.

    Owners (and staff) see every proposal that was not withdrawn — except on a sealed tender, where nobody but
    each bidder sees anything; a bidder sees only their own organization's proposal.
    """
    qs = Proposal.objects.filter(demand=demand).select_related("supplier", "supplier__region", "submitted_by")
    own = qs.filter(supplier_id__in=list(_member_org_ids(user)))
    if demand.is_sealed:
        return own
    if user.is_authenticated and (user.is_staff or demand_is_owner(user=user, demand=demand)):
        return qs.exclude(status=ProposalStatus.WITHDRAWN)
    return own


def proposal_list_visible_to(*, user) -> QuerySet[Proposal]:
    """Every proposal the user may read, across demands: the cross-demand form of ``proposal_list_for_demand``
    (the own organizations' bids in any state; for owners and staff, the other non-withdrawn bids of demands
    that are not sealed). The confidentiality matrix test checks that both agree for every persona."""
    if not user.is_authenticated:
        return Proposal.objects.none()
    member_orgs = Membership.objects.filter(user=user).values("organization_id")
    sealed = Q(demand__mode=Demand.Mode.TENDER, demand__closed_at__isnull=True)
    received = ~Q(status=ProposalStatus.WITHDRAWN) & ~sealed
    if not user.is_staff:
        received &= Q(demand__owner_id__in=member_orgs)
    return Proposal.objects.filter(Q(supplier_id__in=member_orgs) | received)


def proposal_count_visible(*, user, demand: Demand) -> int | None:
    """How many proposals the user may know of; None while a tender is sealed (even the count is secret)."""
    if demand.is_sealed:
        return None
    return proposal_list_for_demand(user=user, demand=demand).count()


def proposal_get_for_user(*, user, pk) -> Proposal:
    try:
        proposal = (
            Proposal.objects.select_related("demand", "demand__owner", "supplier").filter(pk=int(pk)).first()
        )
    except (TypeError, ValueError):
        raise Http404 from None
    if (
        proposal is None
        or not proposal_list_for_demand(user=user, demand=proposal.demand).filter(pk=pk).exists()
    ):
        raise Http404
    return proposal


def proposal_of_organization(*, demand: Demand, organization: Organization) -> Proposal | None:
    return Proposal.objects.filter(demand=demand, supplier=organization).first()


def proposal_list_for_supplier(*, user) -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(supplier_id__in=list(_member_org_ids(user)))
        .select_related("demand", "demand__owner", "supplier")
        .order_by("-submitted_at")
    )


def commitments_published(*, demand: Demand) -> list[dict]:
    """After close: every bid's receipt commitments, in submission order, for bidders to check theirs."""
    # Only after the close: before it, even the number of receipts would tell how many bids there are.
    if demand.closed_at is None or demand.status in (DemandStatus.PUBLISHED, DemandStatus.PENDING_REVIEW):
        return []
    rows = []
    for proposal in (
        Proposal.objects.filter(demand=demand).prefetch_related("receipts").order_by("submitted_at", "id")
    ):
        receipt = max(proposal.receipts.all(), key=lambda r: r.version, default=None)
        if receipt is None:  # a proposal imported from another platform carries no receipt of ours
            continue
        rows.append(
            {
                "receipt": f"{proposal.pk}-{receipt.version}",
                "commitment": receipt.commitment,
                "submitted_at": receipt.created_at,
                "withdrawn": proposal.status == ProposalStatus.WITHDRAWN,
            }
        )
    return rows


def question_list(*, demand: Demand) -> QuerySet[Question]:
    return demand.questions.select_related("organization")


# --- owners' dashboards and profiles --------------------------------------------------------------------------


def demand_list_for_organizations(*, user) -> QuerySet[Demand]:
    return (
        Demand.objects.filter(owner_id__in=list(_member_org_ids(user)))
        .select_related("owner", "field", "region")
        .annotate(
            proposal_total=Case(
                # A sealed tender's count is secret even from its owner until the close.
                When(mode=Demand.Mode.TENDER, closed_at__isnull=True, then=Value(None)),
                default=Count(
                    "proposals", filter=~Q(proposals__status=ProposalStatus.WITHDRAWN), distinct=True
                ),
            )
        )
        .order_by("-updated_at")
    )


def organization_response_rate(*, organization: Organization) -> float | None:
    """Share of the proposals this organization received that it answered within DEMAND_RESPONSE_DAYS.

    The window opens when the owner can first read a proposal: at submission, or at the close for a sealed
    tender (whose bids therefore do not count before it closes). Proposals still inside their window and not
    yet answered are not judged either way. None when nothing can be judged yet.
    """
    window = timedelta(days=settings.DEMAND_RESPONSE_DAYS)
    now = timezone.now()
    readable_from = Case(
        When(demand__mode=Demand.Mode.TENDER, then=F("demand__closed_at")),
        default=F("submitted_at"),
        output_field=DateTimeField(),
    )
    received = (
        Proposal.objects.filter(demand__owner=organization)
        .exclude(status=ProposalStatus.WITHDRAWN)
        .exclude(demand__mode=Demand.Mode.TENDER, demand__closed_at__isnull=True)
        .annotate(readable_from=readable_from)
    )
    judged = received.filter(Q(owner_responded_at__isnull=False) | Q(readable_from__lte=now - window))
    totals = judged.aggregate(
        total=Count("id"),
        answered=Count(
            "id",
            filter=Q(owner_responded_at__isnull=False)
            & Q(
                owner_responded_at__lte=ExpressionWrapper(
                    F("readable_from") + window, output_field=DateTimeField()
                )
            ),
        ),
    )
    if not totals["total"]:
        return None
    return round(100.0 * totals["answered"] / totals["total"], 1)
