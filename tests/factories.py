"""factory_boy factories. Defaults are valid and realistic: a user has a verified e-mail and the password
``DEFAULT_PASSWORD``; an organization is verified, has a valid unified social credit code for its region and its
``created_by`` user as administrator.

    EnterpriseFactory()                        # verified enterprise in 杭州 (330100) with one admin
    UniversityFactory(pending=True)            # a university waiting for review
    InstituteFactory(region_code="330200", admins=[alice, bob], fields=["advanced_manufacturing"])
    UserFactory(unverified=True)               # e-mail not verified yet
    UserFactory.build()                        # no database needed
"""

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

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
from marketplace.taxonomy import OrganizationType

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
