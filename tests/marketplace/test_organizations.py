import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from marketplace import services
from marketplace.exceptions import ApplicationError
from marketplace.models import AuditLog, CredentialDocument, Invitation, JoinRequest, Membership, Organization

pytestmark = pytest.mark.django_db

VALID_CODE = "91330100MA27XL0E2G"


def create(user, **overrides):
    data = {
        "name": "杭州恒拓精密模具有限公司",
        "org_type": "enterprise",
        "credit_code": VALID_CODE,
        "region_code": "330100",
        "field_codes": ["advanced_manufacturing", "advanced_manufacturing.moulds_plastics"],
        "description": "注塑模具设计与制造",
    }
    data.update(overrides)
    return services.organization_create(user=user, **data)


def test_create_registers_a_pending_organization_with_the_user_as_admin(outsider):
    org = create(outsider)

    assert org.status == Organization.Status.PENDING
    assert org.credit_code == VALID_CODE
    assert org.region_id == "330100"
    assert sorted(f.code for f in org.fields.all()) == [
        "advanced_manufacturing",
        "advanced_manufacturing.moulds_plastics",
    ]
    membership = Membership.objects.get(organization=org)
    assert (membership.user, membership.role) == (outsider, Membership.Role.ADMIN)
    assert (
        AuditLog.objects.filter(action="organization.register", target_id=str(org.pk), actor=outsider).count()
        == 1
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"credit_code": "91330100MA27XL0E2Y"}, "credit_code"),  # wrong check character
        ({"credit_code": "91330100MA27XL0E"}, "credit_code"),  # wrong length
        ({"credit_code": ""}, "credit_code"),  # required for an enterprise
        ({"region_code": "339999"}, "region"),
        ({"region_code": "abc"}, "region"),
        ({"org_type": "company"}, "org_type"),
        ({"name": "  "}, "name"),
        ({"field_codes": ["rocket_science"]}, "fields"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(outsider, overrides, field):
    with pytest.raises(ValidationError) as exc:
        create(outsider, **overrides)

    assert field in exc.value.error_dict
    assert Organization.objects.count() == 0
    assert Membership.objects.count() == 0
    assert AuditLog.objects.count() == 0


def test_university_may_register_without_credit_code(outsider):
    org = create(outsider, name="浙东理工大学", org_type="university", credit_code="")
    assert org.credit_code is None


def test_duplicate_name_is_refused_case_insensitively(outsider, enterprise):
    with pytest.raises(ValidationError) as exc:
        create(outsider, name=enterprise.name.upper(), credit_code="")
    assert "name" in exc.value.error_dict
    assert Organization.objects.filter(name__iexact=enterprise.name).count() == 1


def test_duplicate_credit_code_is_refused(outsider, enterprise):
    with pytest.raises(ValidationError) as exc:
        create(outsider, credit_code=enterprise.credit_code)
    assert "credit_code" in exc.value.error_dict


def test_unverified_email_cannot_register(outsider):
    outsider.email_verified_at = None
    outsider.save()
    with pytest.raises(ApplicationError) as exc:
        create(outsider)
    assert exc.value.code == "email_not_verified"
    assert Organization.objects.count() == 0


def test_errors_are_in_chinese_and_english(outsider):
    messages = {}
    for language in ("zh-hans", "en"):
        with translation.override(language), pytest.raises(ValidationError) as exc:
            create(outsider, region_code="339999")
        messages[language] = exc.value.error_dict["region"][0].messages[0]
    assert "339999" in messages["en"]
    assert "Unknown region code" in messages["en"]
    assert "未知" in messages["zh-hans"] or "地区" in messages["zh-hans"]


def test_document_upload_stores_the_digest(enterprise, enterprise_admin):
    pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"
    document = services.credential_document_add(
        organization=enterprise,
        actor=enterprise_admin,
        kind="business_license",
        uploaded=SimpleUploadedFile("营业执照.pdf", pdf),
    )
    assert document.size == len(pdf)
    assert document.content_type == "application/pdf"
    assert document.original_name == "营业执照.pdf"
    assert document.file.name.startswith(f"credentials/{enterprise.pk}/")
    assert document.file.read() == pdf


def test_bad_upload_saves_nothing(enterprise, enterprise_admin):
    with pytest.raises(ValidationError):
        services.credential_document_add(
            organization=enterprise,
            actor=enterprise_admin,
            kind="business_license",
            uploaded=SimpleUploadedFile("licence.pdf", b"MZ\x90\x00 an executable"),
        )
    assert CredentialDocument.objects.count() == 0
    assert not AuditLog.objects.filter(action="organization.document_add").exists()


def test_invitation_flow(enterprise, enterprise_admin, outsider, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(
            organization=enterprise, actor=enterprise_admin, email=outsider.email.upper(), role="member"
        )
    membership = services.invitation_accept(invitation=invitation, user=outsider)

    assert (membership.organization, membership.role) == (enterprise, Membership.Role.MEMBER)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    with pytest.raises(ApplicationError):
        services.invitation_accept(invitation=invitation, user=outsider)
    assert Membership.objects.filter(organization=enterprise, user=outsider).count() == 1


def test_plain_member_cannot_invite(enterprise, verified_member):
    with pytest.raises(ApplicationError) as exc:
        services.invitation_create(organization=enterprise, actor=verified_member, email="x@example.com")
    assert exc.value.code == "not_org_admin"
    assert Invitation.objects.count() == 0


def test_invitation_for_someone_else_is_refused(enterprise, enterprise_admin, outsider):
    invitation = services.invitation_create(
        organization=enterprise, actor=enterprise_admin, email="other@example.com"
    )
    with pytest.raises(ApplicationError) as exc:
        services.invitation_accept(invitation=invitation, user=outsider)
    assert exc.value.code == "wrong_invitee"
    assert not Membership.objects.filter(user=outsider).exists()


def test_join_request_approved_by_admin(enterprise, enterprise_admin, outsider):
    join_request = services.join_request_create(
        organization=enterprise, user=outsider, message="我是研发部的"
    )
    with pytest.raises(ApplicationError):
        services.join_request_create(organization=enterprise, user=outsider)

    services.join_request_decide(join_request=join_request, actor=enterprise_admin, approve=True)

    assert Membership.objects.filter(organization=enterprise, user=outsider, role="member").exists()
    join_request.refresh_from_db()
    assert join_request.status == JoinRequest.Status.APPROVED
    with pytest.raises(ApplicationError):
        services.join_request_decide(join_request=join_request, actor=enterprise_admin, approve=False)


def test_last_admin_cannot_leave_or_be_demoted(enterprise, enterprise_admin):
    membership = Membership.objects.get(organization=enterprise, user=enterprise_admin)
    with pytest.raises(ApplicationError) as exc:
        services.membership_set_role(membership=membership, actor=enterprise_admin, role="member")
    assert exc.value.code == "last_admin"
    with pytest.raises(ApplicationError):
        services.membership_remove(membership=membership, actor=enterprise_admin)
    membership.refresh_from_db()
    assert membership.role == Membership.Role.ADMIN


def test_member_may_leave(enterprise, verified_member):
    membership = Membership.objects.get(organization=enterprise, user=verified_member)
    services.membership_remove(membership=membership, actor=verified_member)
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_plain_member_cannot_change_the_organization_through_services(enterprise, verified_member):
    before = (enterprise.description, enterprise.status)
    with pytest.raises(ApplicationError):
        services.organization_update(organization=enterprise, actor=verified_member, description="hijacked")
    with pytest.raises(ApplicationError):
        services.credential_document_add(
            organization=enterprise,
            actor=verified_member,
            kind="other",
            uploaded=SimpleUploadedFile("x.pdf", b"%PDF-1.4\n"),
        )
    Organization.objects.filter(pk=enterprise.pk).update(status=Organization.Status.NEEDS_DOCUMENTS)
    with pytest.raises(ApplicationError):
        services.organization_resubmit(organization=enterprise, actor=verified_member)
    enterprise.refresh_from_db()
    assert enterprise.description == before[0]
    assert enterprise.status == Organization.Status.NEEDS_DOCUMENTS
    assert CredentialDocument.objects.count() == 0


def test_bad_upload_error_is_on_the_file_field(enterprise, enterprise_admin):
    with pytest.raises(ValidationError) as exc:
        services.credential_document_add(
            organization=enterprise,
            actor=enterprise_admin,
            kind="other",
            uploaded=SimpleUploadedFile("x.pdf", b"not a pdf"),
        )
    assert list(exc.value.error_dict) == ["file"]
