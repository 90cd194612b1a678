"""factory_boy factories. Defaults are valid and realistic: a user has a verified e-mail and the password
``DEFAULT_PASSWORD``; an organization is verified, has a valid unified social credit code for its region and its
``created_by`` user as administrator.

    EnterpriseFactory()                        # verified enterprise in 杭州 (330100) with one admin
    UniversityFactory(pending=True)            # a university waiting for review
    InstituteFactory(region_code="330200", admins=[alice, bob], fields=["advanced_manufacturing"])
    UserFactory(unverified=True)               # e-mail not verified yet
    UserFactory.build()                        # no database needed
    DemandFactory(tender=True)                 # published sealed tender of a verified enterprise
    ProposalFactory(demand=demand)             # a verified university's bid, with commitment and receipt
"""

import secrets
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from demands.models import Demand, DemandMode, DemandStatus, Proposal, ProposalReceipt, ProposalStatus
from demands.services import commitment_of, proposal_content
from demands.services.lifecycle import _search_text
from marketplace.management.commands.seed_demo import make_credit_code
from marketplace.models import (
    Invitation,
    JoinRequest,
    Membership,
    Notification,
    Organization,
    Region,
    TechnologyField,
    User,
)
from marketplace.taxonomy import CooperationMode, OrganizationType

DEFAULT_PASSWORD = "pass-1234-word"


def get_region(code: str) -> Region:
    """Regions are reference data loaded by migration 0002; tests look them up, never create them."""
    return Region.objects.get(code=code)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    class Params:
        unverified = factory.Trait(email_verified_at=None)
        staff = factory.Trait(is_staff=True, is_superuser=True)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    full_name = factory.Faker("name", locale="zh_CN")
    password = factory.django.Password(DEFAULT_PASSWORD)
    email_verified_at = factory.LazyFunction(timezone.now)


class OrganizationFactory(DjangoModelFactory):
    """A verified enterprise by default. ``admins=[...]`` replaces the default admin (``created_by``)."""

    class Meta:
        model = Organization
        skip_postgeneration_save = True

    class Params:
        region_code = "330100"
        pending = factory.Trait(status=Organization.Status.PENDING, verified_at=None, status_reason="")
        needs_documents = factory.Trait(
            status=Organization.Status.NEEDS_DOCUMENTS,
            verified_at=None,
            status_reason="请补充营业执照扫描件。",
        )
        rejected = factory.Trait(
            status=Organization.Status.REJECTED, verified_at=None, status_reason="材料不符。"
        )
        suspended = factory.Trait(status=Organization.Status.SUSPENDED, status_reason="违反平台规则。")

    name = factory.Sequence(lambda n: f"浙江测试科技有限公司{n:04d}")
    org_type = OrganizationType.ENTERPRISE
    region = factory.LazyAttribute(lambda o: get_region(o.region_code))
    credit_code = factory.LazyAttributeSequence(
        lambda o, n: make_credit_code(region_code=o.region.code, serial=n, org_type=o.org_type)
    )
    description = factory.Faker("paragraph", locale="zh_CN")
    contact_name = factory.Faker("name", locale="zh_CN")
    contact_email = factory.Sequence(lambda n: f"contact{n}@example.com")
    contact_phone = "0571-88880000"
    status = Organization.Status.VERIFIED
    status_reason = "营业执照与统一社会信用代码核验一致。"
    status_changed_at = factory.LazyFunction(timezone.now)
    verified_at = factory.LazyFunction(timezone.now)
    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def admins(obj, create, extracted, **kwargs):
        if not create:
            return
        for user in extracted if extracted is not None else [obj.created_by]:
            Membership.objects.get_or_create(
                user=user, organization=obj, defaults={"role": Membership.Role.ADMIN}
            )

    @factory.post_generation
    def fields(obj, create, extracted, **kwargs):
        """``fields=["advanced_manufacturing", "new_materials.polymers"]`` (codes or TechnologyField rows)."""
        if not create or not extracted:
            return
        codes = [f.code if isinstance(f, TechnologyField) else f for f in extracted]
        obj.fields.set(TechnologyField.objects.filter(code__in=codes))


class EnterpriseFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"杭州测试精密制造有限公司{n:04d}")
    org_type = OrganizationType.ENTERPRISE


class UniversityFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"测试理工大学{n:04d}")
    org_type = OrganizationType.UNIVERSITY


class InstituteFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"测试先进技术研究院{n:04d}")
    org_type = OrganizationType.RESEARCH_INSTITUTE


class IntermediaryFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"测试技术转移服务有限公司{n:04d}")
    org_type = OrganizationType.INTERMEDIARY


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    class Params:
        admin = factory.Trait(role=Membership.Role.ADMIN)

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.MEMBER


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Membership.Role.MEMBER
    token = factory.Sequence(lambda n: f"test-invitation-token-{n:06d}")
    invited_by = factory.LazyAttribute(lambda o: o.organization.created_by)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


class JoinRequestFactory(DjangoModelFactory):
    class Meta:
        model = JoinRequest

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    message = "我是贵单位的研发人员，申请加入。"


class NotificationFactory(DjangoModelFactory):
    """A notification row only: creating it through the factory queues no e-mail task."""

    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    subject = factory.Sequence(lambda n: f"测试通知 {n} / Test notification {n}")
    body = "您的机构已通过审核。\n\n———\n\nYour organization has been verified."
    url = "/notifications/"
    send_email = True


# --- demands ----------------------------------------------------------------------------------------------


def get_field(code: str) -> TechnologyField:
    """Technology fields are reference data too: ``"advanced_manufacturing"`` or ``"new_materials.polymers"``."""
    return TechnologyField.objects.get(code=code)


def _demand_search_text(o) -> str:
    # Exactly what the services store (demands.services.lifecycle._search_text), computed on an unsaved copy.
    return _search_text(Demand(title=o.title, summary=o.summary, field=o.field, sub_field=o.sub_field))


class DemandFactory(DjangoModelFactory):
    """A published open call of a verified enterprise in 杭州 (先进制造, deadline in 14 days).

        DemandFactory(draft=True)                  # not yet submitted
        DemandFactory(pending_review=True)         # waiting for a reviewer
        DemandFactory(closed=True)                 # deadline passed, closed yesterday
        DemandFactory(tender=True)                 # sealed tender
        DemandFactory(challenge=True)              # challenge with a 50,000 yuan award
        DemandFactory(nda=True)                    # NDA required, with terms
        DemandFactory(field_code="new_materials", sub_field_code="new_materials.polymers", region_code="330200")

    Rows are written directly: no audit entry, no notification. Tests of the transitions call the services.
    """

    class Meta:
        model = Demand
        skip_postgeneration_save = True

    class Params:
        field_code = "advanced_manufacturing"
        sub_field_code = None
        region_code = "330100"
        draft = factory.Trait(status=DemandStatus.DRAFT, submitted_at=None, published_at=None)
        pending_review = factory.Trait(status=DemandStatus.PENDING_REVIEW, published_at=None)
        closed = factory.Trait(
            status=DemandStatus.CLOSED,
            published_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=15)),
            submitted_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=16)),
            deadline=factory.LazyFunction(lambda: timezone.now() - timedelta(days=1)),
            closed_at=factory.LazyAttribute(lambda o: o.deadline),
            close_notified_at=factory.LazyAttribute(lambda o: o.deadline),
        )
        tender = factory.Trait(mode=DemandMode.TENDER)
        challenge = factory.Trait(mode=DemandMode.CHALLENGE, award_amount=Decimal("50000.00"))
        nda = factory.Trait(
            nda_required=True,
            nda_terms="接收方对需求方披露的工艺参数、模具图纸和检测数据负有保密义务，保密期限三年，"
            "未经书面同意不得向第三方披露或用于本需求以外的目的。",
        )

    owner = factory.SubFactory(EnterpriseFactory)
    created_by = factory.LazyAttribute(lambda o: o.owner.created_by)
    title = factory.Sequence(lambda n: f"注塑件表面银纹与气泡缺陷分析（{n:04d}）")
    summary = (
        "我司生产的PC/ABS家电外壳注塑件在浇口附近出现银纹和气泡，不良率约3%。"
        "希望分析成因（原料含水、熔体温度、排气设计等），提出工艺与模具改进方案，并在量产线上验证。"
    )
    details = "现用注塑机：海天MA2500，模温60℃，料筒温度245-265℃，原料干燥4小时；附不良样件照片与工艺记录。"
    field = factory.LazyAttribute(lambda o: get_field(o.field_code))
    sub_field = factory.LazyAttribute(lambda o: get_field(o.sub_field_code) if o.sub_field_code else None)
    region = factory.LazyAttribute(lambda o: get_region(o.region_code))
    budget_min = Decimal("100000.00")
    budget_max = Decimal("300000.00")
    deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))
    cooperation_mode = CooperationMode.DEVELOPMENT
    mode = DemandMode.OPEN
    status = DemandStatus.PUBLISHED
    submitted_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    published_at = factory.LazyFunction(timezone.now)
    search_text = factory.LazyAttribute(_demand_search_text)


class ProposalFactory(DjangoModelFactory):
    """A submitted proposal of a verified university, with a valid commitment and its version-1 receipt.

    ``proposal_verify(content=proposal_content(p), commitment=p.receipts.get().commitment)`` holds, exactly as
    for a proposal sent through ``proposal_submit``. Rows are written directly: no audit entry, no notification.
    """

    class Meta:
        model = Proposal
        skip_postgeneration_save = True

    demand = factory.SubFactory(DemandFactory)
    supplier = factory.SubFactory(UniversityFactory)
    submitted_by = factory.LazyAttribute(lambda o: o.supplier.created_by)
    approach = (
        "采用正交试验结合Moldflow模流分析定位银纹与气泡成因；优化干燥工艺（除湿干燥至含水率0.02%以下）、"
        "调整料筒温度梯度与注射速度曲线，并在浇口附近增设排气槽。"
    )
    price = Decimal("180000.00")
    duration_days = 90
    team = "材料成型教研室：教授1名、副教授2名、博士研究生3名"
    status = ProposalStatus.SUBMITTED
    version = 1
    nonce = factory.LazyFunction(lambda: secrets.token_hex(16))
    submitted_at = factory.LazyFunction(timezone.now)

    @factory.lazy_attribute
    def commitment(self):
        # No attachments on a new row, so the content of the unsaved copy is the content of the saved one.
        return commitment_of(
            proposal_content(
                Proposal(
                    demand=self.demand,
                    supplier=self.supplier,
                    version=self.version,
                    approach=self.approach,
                    price=self.price,
                    duration_days=self.duration_days,
                    team=self.team,
                    nonce=self.nonce,
                )
            )
        )

    @factory.post_generation
    def receipt(obj, create, extracted, **kwargs):
        if create:
            ProposalReceipt.objects.create(proposal=obj, version=obj.version, commitment=obj.commitment)
