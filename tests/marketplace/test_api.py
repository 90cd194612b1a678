"""The core API under /api/v1/: tokens, /me, organizations, members, invitations, join requests,
notifications, taxonomies, the schema and docs, and fixed query counts of the list endpoints."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from marketplace.api import throttling
from marketplace.api.throttling import ScopedRateThrottle
from marketplace.models import (
    AuditLog,
    CredentialDocument,
    Invitation,
    JoinRequest,
    Membership,
    Notification,
    Organization,
)
from marketplace.taxonomy import CODE_LISTS
from tests.factories import (
    DEFAULT_PASSWORD,
    EnterpriseFactory,
    InvitationFactory,
    JoinRequestFactory,
    MembershipFactory,
    NotificationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

VALID_CODE = "91330100MA27XL0E2G"
ORGS = "/api/v1/organizations/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 200
PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def in_chinese(message: str) -> str:
    """The Chinese rendering of an English message id (itself when the catalogue is not compiled)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def org_url(organization, suffix=""):
    return f"{ORGS}{organization.pk}/{suffix}"


def error(response) -> dict:
    assert set(response.json()) == {"error"}, response.json()
    return response.json()["error"]


@pytest.fixture
def client_as(api_client, api_client_for):
    """``client_as("persona")``: an API client for one of the conftest personas, or anonymous."""

    def make(persona, request=None):
        if persona == "anonymous":
            return api_client
        return api_client_for(persona)

    return make


# --- token -------------------------------------------------------------------------------------------------


def test_token_by_username_authenticates_later_requests(api_client, outsider):
    response = api_client.post("/api/v1/auth/token/", {"username": "outsider", "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=outsider).key
    me = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "outsider"


def test_token_by_email_is_case_insensitive(api_client, outsider):
    response = api_client.post(
        "/api/v1/auth/token/",
        {"username": outsider.email.upper(), "password": DEFAULT_PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=outsider).key}


def test_token_with_bad_password_is_a_400_in_the_error_format(api_client, outsider):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "outsider", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert error(response) == {
        "code": "invalid_credentials",
        "message": "Unable to log in with the username (or e-mail address) and password given.",
    }
    assert not Token.objects.exists()


def test_token_without_password_is_a_field_error(api_client):
    response = api_client.post("/api/v1/auth/token/", {"username": "outsider"})

    assert response.status_code == 400
    assert error(response)["code"] == "validation_error"
    assert set(error(response)["fields"]) == {"password"}


def test_token_endpoint_is_throttled_after_the_configured_rate(api_client, outsider, monkeypatch):
    limit, _duration = ScopedRateThrottle().parse_rate(ScopedRateThrottle.THROTTLE_RATES["auth"])
    # One instant inside a window: the counter is per window, and a run across a boundary would start afresh.
    monkeypatch.setattr(throttling.time, "time", lambda: 1_800_000_030.0)

    statuses = [
        api_client.post("/api/v1/auth/token/", {"username": "outsider", "password": "wrong"}).status_code
        for _ in range(limit)
    ]
    blocked = api_client.post("/api/v1/auth/token/", {"username": "outsider", "password": DEFAULT_PASSWORD})

    assert statuses == [400] * limit
    assert blocked.status_code == 429
    assert error(blocked)["code"] == "throttled"
    assert error(blocked)["retry_after_seconds"] > 0
    assert not Token.objects.exists()


def test_token_delete_revokes_it(outsider):
    token = Token.objects.create(user=outsider)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert not Token.objects.exists()
    assert client.get("/api/v1/me/").status_code in (401, 403)


# --- me ----------------------------------------------------------------------------------------------------


def test_me_shows_profile_and_memberships(api_client_for, verified_member, enterprise):
    response = api_client_for(verified_member).get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "verified-member"
    assert body["email_verified"] is True
    assert [(m["organization"], m["role"]) for m in body["memberships"]] == [
        ({"id": enterprise.pk, "name": enterprise.name, "status": "verified"}, "member")
    ]


def test_me_requires_authentication(api_client):
    assert api_client.get("/api/v1/me/").status_code in (401, 403)


def test_me_patch_updates_the_profile_and_keeps_the_email(api_client_for, outsider):
    response = api_client_for(outsider).patch(
        "/api/v1/me/", {"full_name": " 王小明 ", "phone": "13800000000"}
    )

    assert response.status_code == 200
    outsider.refresh_from_db()
    assert (outsider.full_name, outsider.phone, outsider.email) == (
        "王小明",
        "13800000000",
        "outsider@example.com",
    )
    assert response.json()["full_name"] == "王小明"
    assert outsider.is_email_verified


def test_me_patch_new_email_must_be_verified_again(
    api_client_for, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(outsider).patch("/api/v1/me/", {"email": "new.address@example.com"})

    assert response.status_code == 200
    assert response.json()["email"] == "new.address@example.com"
    assert response.json()["email_verified"] is False
    assert [m.to for m in mail.outbox] == [["new.address@example.com"]]


# --- organizations: create -------------------------------------------------------------------------------


def create_payload(**overrides):
    data = {
        "name": "杭州恒拓精密模具有限公司",
        "org_type": "enterprise",
        "credit_code": VALID_CODE,
        "region": "330100",
        "fields": ["advanced_manufacturing", "advanced_manufacturing.moulds_plastics"],
        "description": "注塑模具设计与制造",
        "contact_name": "李工",
        "contact_email": "li@example.com",
        "contact_phone": "0571-88880001",
    }
    data.update(overrides)
    return data


def test_create_registers_a_pending_organization_administered_by_the_caller(api_client_for, outsider):
    response = api_client_for(outsider).post(ORGS, create_payload(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    organization = Organization.objects.get()
    assert body["id"] == organization.pk
    assert (body["status"], body["credit_code"], body["region"]["code"]) == ("pending", VALID_CODE, "330100")
    assert [f["code"] for f in body["fields"]] == [
        "advanced_manufacturing",
        "advanced_manufacturing.moulds_plastics",
    ]
    assert not any(key.startswith("contact") for key in body)
    assert organization.contact_email == "li@example.com"
    assert Membership.objects.get(organization=organization).role == Membership.Role.ADMIN


def test_create_requires_authentication(api_client):
    response = api_client.post(ORGS, create_payload(), format="json")

    assert response.status_code in (401, 403)
    assert not Organization.objects.exists()


CHECKSUM_MESSAGE = "The check character of this unified social credit code is wrong; please check the code."
LENGTH_MESSAGE = "A unified social credit code has 18 characters; %(count)d were given."


@pytest.mark.parametrize(
    ("credit_code", "message", "params"),
    [
        pytest.param(
            VALID_CODE[:-1] + ("1" if VALID_CODE[-1] != "1" else "2"), CHECKSUM_MESSAGE, {}, id="check"
        ),
        pytest.param(VALID_CODE[:-1], LENGTH_MESSAGE, {"count": 17}, id="short"),
        pytest.param(VALID_CODE + "0", LENGTH_MESSAGE, {"count": 19}, id="long"),
    ],
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_create_refuses_an_invalid_credit_code(
    api_client_for, outsider, credit_code, message, params, language
):
    headers = {"HTTP_ACCEPT_LANGUAGE": "en"} if language == "en" else {}

    response = api_client_for(outsider).post(
        ORGS, create_payload(credit_code=credit_code), format="json", **headers
    )

    assert response.status_code == 400
    body = error(response)
    assert body["code"] == "validation_error"
    expected = (message if language == "en" else in_chinese(message)) % params
    assert body["fields"] == {"credit_code": [expected]}
    assert body["message"] == expected
    assert not Organization.objects.exists()
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_create_refuses_a_duplicate_name_case_insensitively(api_client_for, outsider, enterprise, language):
    headers = {"HTTP_ACCEPT_LANGUAGE": "en"} if language == "en" else {}
    message = "An organization with this name is already registered. Ask its administrator to invite you."

    response = api_client_for(outsider).post(
        ORGS, create_payload(name=f" {enterprise.name} "), format="json", **headers
    )

    assert response.status_code == 400
    assert error(response)["fields"] == {"name": [message if language == "en" else in_chinese(message)]}
    assert Organization.objects.count() == 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_create_refuses_an_unknown_region(api_client_for, outsider, language):
    headers = {"HTTP_ACCEPT_LANGUAGE": "en"} if language == "en" else {}
    message = "Unknown region code “%(value)s”. Use a GB/T 2260 province or city code."

    response = api_client_for(outsider).post(ORGS, create_payload(region="123456"), format="json", **headers)

    assert response.status_code == 400
    expected = (message if language == "en" else in_chinese(message)) % {"value": "123456"}
    assert error(response)["fields"] == {"region": [expected]}
    assert not Organization.objects.exists()


def test_create_reports_every_identity_error_at_once(api_client_for, outsider, enterprise):
    response = api_client_for(outsider).post(
        ORGS,
        create_payload(name=enterprise.name, credit_code="123", region="000000"),
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert set(error(response)["fields"]) == {"name", "credit_code", "region"}


def test_create_refuses_an_unknown_org_type_as_a_shape_error(api_client_for, outsider):
    response = api_client_for(outsider).post(ORGS, create_payload(org_type="pirate"), format="json")

    assert response.status_code == 400
    assert set(error(response)["fields"]) == {"org_type"}


def test_create_needs_a_verified_email(api_client_for):
    user = UserFactory(unverified=True)

    response = api_client_for(user).post(ORGS, create_payload(), format="json")

    assert response.status_code == 400
    assert error(response)["code"] == "email_not_verified"
    assert not Organization.objects.exists()


# --- organizations: visibility, list, filters ------------------------------------------------------------


def test_list_shows_verified_organizations_without_contact_details(
    api_client, enterprise, university, pending_org
):
    response = api_client.get(ORGS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {o["id"] for o in body["results"]} == {enterprise.pk, university.pk}
    for row in body["results"]:
        assert not any(key.startswith("contact") for key in row)
        assert "status_reason" not in row


def test_list_includes_the_callers_own_pending_organization(
    api_client_for, pending_admin, pending_org, enterprise
):
    response = api_client_for(pending_admin).get(ORGS, {"status": "pending"})

    assert [o["id"] for o in response.json()["results"]] == [pending_org.pk]


def test_staff_see_every_organization(api_client_for, staff_user, enterprise, pending_org):
    response = api_client_for(staff_user).get(ORGS)

    assert {o["id"] for o in response.json()["results"]} == {enterprise.pk, pending_org.pk}


def test_outsider_gets_404_for_a_pending_organization(api_client_for, outsider, pending_org):
    response = api_client_for(outsider).get(org_url(pending_org))

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_anonymous_gets_404_for_a_pending_organization(api_client, pending_org):
    assert api_client.get(org_url(pending_org)).status_code == 404


@pytest.mark.parametrize("persona", ["pending_admin", "unverified_member", "staff_user"])
def test_members_and_staff_see_a_pending_organization_with_its_reason(
    request, api_client_for, pending_org, persona
):
    pending_org.status_reason = "请补充材料"
    pending_org.save()

    response = api_client_for(request.getfixturevalue(persona)).get(org_url(pending_org))

    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert response.json()["status_reason"] == "请补充材料"
    assert "contact_email" not in response.json()


def test_retrieve_for_outsider_has_no_private_fields(api_client_for, outsider, enterprise):
    response = api_client_for(outsider).get(org_url(enterprise))

    assert response.status_code == 200
    assert "status_reason" not in response.json()
    assert not any(key.startswith("contact") for key in response.json())


def test_filter_by_province_matches_its_cities(api_client):
    hangzhou = EnterpriseFactory(region_code="330100")
    zhejiang = EnterpriseFactory(region_code="330000")
    EnterpriseFactory(region_code="310000")  # Shanghai

    by_province = api_client.get(ORGS, {"region": "330000"}).json()
    by_city = api_client.get(ORGS, {"region": "330100"}).json()

    assert {o["id"] for o in by_province["results"]} == {hangzhou.pk, zhejiang.pk}
    assert [o["id"] for o in by_city["results"]] == [hangzhou.pk]


def test_filter_by_field_type_and_name(api_client, enterprise, university):
    by_top_field = api_client.get(ORGS, {"field": "new_materials"}).json()
    by_type = api_client.get(ORGS, {"org_type": "university"}).json()
    by_name = api_client.get(ORGS, {"q": enterprise.name[2:8]}).json()

    assert [o["id"] for o in by_top_field["results"]] == [university.pk]
    assert [o["id"] for o in by_type["results"]] == [university.pk]
    assert [o["id"] for o in by_name["results"]] == [enterprise.pk]


def test_filter_by_top_level_field_matches_sub_fields(api_client):
    organization = EnterpriseFactory(fields=["new_materials.polymers"])
    EnterpriseFactory(fields=["agriculture"])

    body = api_client.get(ORGS, {"field": "new_materials"}).json()

    assert [o["id"] for o in body["results"]] == [organization.pk]


def test_region_names_follow_the_request_language(api_client, enterprise):
    zh = api_client.get(org_url(enterprise)).json()
    en = api_client.get(org_url(enterprise), HTTP_ACCEPT_LANGUAGE="en").json()

    assert zh["region"]["name"] == "杭州市"
    assert en["region"]["name"] == "Hangzhou"
    assert zh["org_type_display"] == "企业"
    assert en["org_type_display"] == "Enterprise"


# --- organizations: contact details ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", (401, 403)),
        ("outsider", (403,)),
        ("unverified_member", (403,)),  # member of a pending organization only
        ("university_admin", (200,)),  # acts for another, verified organization
        ("verified_member", (200,)),
        ("enterprise_admin", (200,)),
        ("staff_user", (200,)),
    ],
)
def test_contact_details_permission_matrix(
    request, api_client, api_client_for, enterprise, persona, expected
):
    client = api_client if persona == "anonymous" else api_client_for(request.getfixturevalue(persona))

    response = client.get(org_url(enterprise, "contact/"))

    assert response.status_code in expected
    if expected == (200,):
        assert response.json() == {
            "id": enterprise.pk,
            "contact_name": enterprise.contact_name,
            "contact_email": enterprise.contact_email,
            "contact_phone": enterprise.contact_phone,
        }
    else:
        assert "contact_email" not in str(response.json())


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("pending_admin", 200), ("unverified_member", 200), ("university_admin", 404), ("outsider", 404)],
)
def test_contact_details_of_a_pending_organization(request, api_client_for, pending_org, persona, expected):
    response = api_client_for(request.getfixturevalue(persona)).get(org_url(pending_org, "contact/"))

    assert response.status_code == expected


# --- organizations: update -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["enterprise_admin", "staff_user"])
def test_admin_and_staff_can_patch_the_profile(request, api_client_for, enterprise, persona):
    actor = request.getfixturevalue(persona)

    response = api_client_for(actor).patch(
        org_url(enterprise),
        {"description": "新的简介", "region": "330200", "fields": ["agriculture"]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    enterprise.refresh_from_db()
    assert enterprise.description == "新的简介"
    assert enterprise.region_id == "330200"
    assert [f.code for f in enterprise.fields.all()] == ["agriculture"]
    assert response.json()["region"]["code"] == "330200"
    assert AuditLog.objects.filter(action="organization.update", actor=actor).count() == 1


@pytest.mark.parametrize("persona", ["verified_member", "outsider", "university_admin"])
def test_others_cannot_patch_the_profile(request, api_client_for, enterprise, persona):
    before = enterprise.description

    response = api_client_for(request.getfixturevalue(persona)).patch(
        org_url(enterprise), {"description": "篡改"}, format="json"
    )

    assert response.status_code == 403
    assert error(response)["code"] == "permission_denied"
    enterprise.refresh_from_db()
    assert enterprise.description == before
    assert not AuditLog.objects.exists()


def test_outsider_patching_a_pending_organization_gets_404(api_client_for, outsider, pending_org):
    response = api_client_for(outsider).patch(org_url(pending_org), {"description": "x"}, format="json")

    assert response.status_code == 404


def test_patch_ignores_identity_fields_and_checks_the_region(api_client_for, enterprise_admin, enterprise):
    name = enterprise.name

    response = api_client_for(enterprise_admin).patch(
        org_url(enterprise), {"name": "改名", "region": "999999"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert set(error(response)["fields"]) == {"region"}
    enterprise.refresh_from_db()
    assert (enterprise.name, enterprise.region_id) == (name, "330100")


def test_put_is_not_allowed(api_client_for, enterprise_admin, enterprise):
    response = api_client_for(enterprise_admin).put(org_url(enterprise), create_payload(), format="json")

    assert response.status_code == 405


# --- organizations: credential documents ----------------------------------------------------------------


def upload(client, organization, name, content, kind="business_license"):
    return client.post(
        org_url(organization, "documents/"),
        {"kind": kind, "file": SimpleUploadedFile(name, content)},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("licence.PNG", PNG, "image/png"), ("licence.pdf", PDF, "application/pdf")],
)
def test_admin_uploads_a_valid_document(
    api_client_for, pending_admin, pending_org, name, content, content_type
):
    response = upload(api_client_for(pending_admin), pending_org, name, content)

    assert response.status_code == 201, response.json()
    document = CredentialDocument.objects.get()
    assert response.json()["id"] == document.pk
    assert (document.content_type, document.size, document.original_name) == (
        content_type,
        len(content),
        name,
    )
    assert document.file.read() == content
    assert response.json()["uploaded_by"]["username"] == "pending-admin"


def test_a_text_file_named_pdf_is_refused(api_client_for, pending_admin, pending_org, settings):
    response = upload(
        api_client_for(pending_admin), pending_org, "licence.pdf", b"just some text, not a PDF\n" * 5
    )

    assert response.status_code == 400
    body = error(response)
    assert body["code"] == "validation_error"
    assert body["message"] == "Only PDF, JPEG and PNG files are accepted."
    assert not CredentialDocument.objects.exists()
    assert not (settings.MEDIA_ROOT / "credentials").exists()


def test_a_png_named_pdf_is_refused(api_client_for, pending_admin, pending_org):
    response = upload(api_client_for(pending_admin), pending_org, "licence.pdf", PNG)

    assert response.status_code == 400
    assert error(response)["message"] == "The file name does not match its content (a PNG file)."
    assert not CredentialDocument.objects.exists()


def test_an_oversized_document_is_refused(api_client_for, pending_admin, pending_org, settings):
    settings.CREDENTIAL_MAX_UPLOAD_BYTES = 100

    response = upload(api_client_for(pending_admin), pending_org, "licence.png", PNG)

    assert response.status_code == 400
    assert (
        error(response)["message"]
        == f"The file is {len(PNG)}\xa0bytes; the largest accepted is 100\xa0bytes."
    )
    assert not CredentialDocument.objects.exists()
    assert not (settings.MEDIA_ROOT / "credentials").exists()


def test_an_unknown_document_kind_is_a_field_error(api_client_for, pending_admin, pending_org):
    response = upload(api_client_for(pending_admin), pending_org, "licence.png", PNG, kind="selfie")

    assert response.status_code == 400
    assert set(error(response)["fields"]) == {"kind"}


def test_a_plain_member_cannot_upload(api_client_for, unverified_member, pending_org):
    response = upload(api_client_for(unverified_member), pending_org, "licence.png", PNG)

    assert response.status_code == 403
    assert not CredentialDocument.objects.exists()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("pending_admin", 200), ("unverified_member", 200), ("staff_user", 200), ("university_admin", 404)],
)
def test_documents_are_listed_for_members_and_staff_only(
    request, api_client_for, pending_org, persona, expected
):
    upload(api_client_for(pending_org.created_by), pending_org, "licence.png", PNG)

    response = api_client_for(request.getfixturevalue(persona)).get(org_url(pending_org, "documents/"))

    assert response.status_code == expected
    if expected == 200:
        assert [d["original_name"] for d in response.json()["results"]] == ["licence.png"]


def test_documents_of_a_visible_organization_are_forbidden_to_outsiders(api_client_for, outsider, enterprise):
    response = api_client_for(outsider).get(org_url(enterprise, "documents/"))

    assert response.status_code == 403


# --- organizations: resubmit, join, members --------------------------------------------------------------


def test_admin_resubmits_after_a_request_for_documents(api_client_for, outsider):
    organization = EnterpriseFactory(created_by=outsider, needs_documents=True)

    response = api_client_for(outsider).post(
        org_url(organization, "resubmit/"), {"note": "已补充"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    organization.refresh_from_db()
    assert organization.status == Organization.Status.PENDING


def test_resubmit_of_a_verified_organization_is_refused(api_client_for, enterprise_admin, enterprise):
    response = api_client_for(enterprise_admin).post(org_url(enterprise, "resubmit/"))

    assert response.status_code == 400
    assert error(response)["code"] == "bad_state"


def test_a_plain_member_cannot_resubmit(api_client_for, unverified_member, pending_org):
    assert api_client_for(unverified_member).post(org_url(pending_org, "resubmit/")).status_code == 403


def test_join_request_flow(
    api_client_for,
    outsider,
    enterprise,
    enterprise_admin,
    verified_member,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(outsider).post(org_url(enterprise, "join/"), {"message": "我是研发工程师"})

    assert response.status_code == 201
    join_request = JoinRequest.objects.get()
    assert response.json()["id"] == join_request.pk
    assert [m.to for m in mail.outbox] == [[enterprise_admin.email]]

    admin = api_client_for(enterprise_admin)
    assert [r["id"] for r in admin.get("/api/v1/join-requests/").json()["results"]] == [join_request.pk]
    assert [r["id"] for r in api_client_for(outsider).get("/api/v1/join-requests/").json()["results"]] == [
        join_request.pk
    ]
    assert api_client_for(verified_member).get("/api/v1/join-requests/").json()["count"] == 0
    assert (
        api_client_for(verified_member).post(f"/api/v1/join-requests/{join_request.pk}/approve/").status_code
        == 404
    )

    with django_capture_on_commit_callbacks(execute=True):
        approved = admin.post(f"/api/v1/join-requests/{join_request.pk}/approve/")

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert Membership.objects.get(user=outsider).organization == enterprise
    assert admin.post(f"/api/v1/join-requests/{join_request.pk}/decline/").status_code == 400


def test_joining_twice_is_refused(api_client_for, verified_member, enterprise):
    response = api_client_for(verified_member).post(org_url(enterprise, "join/"))

    assert response.status_code == 400
    assert error(response)["code"] == "already_member"


def test_requester_cannot_decide_their_own_request(api_client_for, outsider, enterprise):
    join_request = JoinRequestFactory(organization=enterprise, user=outsider)

    response = api_client_for(outsider).post(f"/api/v1/join-requests/{join_request.pk}/approve/")

    assert response.status_code == 403
    join_request.refresh_from_db()
    assert join_request.status == JoinRequest.Status.PENDING


@pytest.mark.parametrize(
    ("persona", "expected"), [("verified_member", 200), ("staff_user", 200), ("outsider", 403)]
)
def test_members_are_listed_for_members_and_staff(
    request, api_client_for, enterprise, verified_member, persona, expected
):
    response = api_client_for(request.getfixturevalue(persona)).get(org_url(enterprise, "members/"))

    assert response.status_code == expected
    if expected == 200:
        assert [(m["user"]["username"], m["role"]) for m in response.json()["results"]] == [
            ("enterprise-admin", "admin"),
            ("verified-member", "member"),
        ]


# --- memberships -----------------------------------------------------------------------------------------


def test_memberships_lists_only_the_callers_own(api_client_for, verified_member, enterprise, university):
    response = api_client_for(verified_member).get("/api/v1/memberships/")

    assert [m["organization"]["id"] for m in response.json()["results"]] == [enterprise.pk]


def test_admin_changes_a_role(api_client_for, enterprise_admin, verified_member):
    membership = Membership.objects.get(user=verified_member)

    response = api_client_for(enterprise_admin).patch(
        f"/api/v1/memberships/{membership.pk}/", {"role": "admin"}, format="json"
    )

    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.role == Membership.Role.ADMIN


def test_a_member_cannot_change_roles(api_client_for, verified_member):
    membership = Membership.objects.get(user=verified_member)

    response = api_client_for(verified_member).patch(
        f"/api/v1/memberships/{membership.pk}/", {"role": "admin"}, format="json"
    )

    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == Membership.Role.MEMBER


def test_an_outsider_gets_404_for_someone_elses_membership(api_client_for, outsider, verified_member):
    membership = Membership.objects.get(user=verified_member)

    client = api_client_for(outsider)
    assert client.patch(f"/api/v1/memberships/{membership.pk}/", {"role": "admin"}).status_code == 404
    assert client.delete(f"/api/v1/memberships/{membership.pk}/").status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_a_member_leaves(api_client_for, verified_member):
    membership = Membership.objects.get(user=verified_member)

    response = api_client_for(verified_member).delete(f"/api/v1/memberships/{membership.pk}/")

    assert response.status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_last_admin_cannot_leave(api_client_for, enterprise_admin, enterprise):
    membership = Membership.objects.get(user=enterprise_admin, organization=enterprise)

    response = api_client_for(enterprise_admin).delete(f"/api/v1/memberships/{membership.pk}/")

    assert response.status_code == 400
    assert error(response)["code"] == "last_admin"
    assert Membership.objects.filter(pk=membership.pk).exists()


# --- invitations -----------------------------------------------------------------------------------------


def test_invitation_flow(
    api_client_for, enterprise_admin, enterprise, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(enterprise_admin).post(
            "/api/v1/invitations/", {"organization": enterprise.pk, "email": outsider.email}, format="json"
        )

    assert response.status_code == 201, response.json()
    invitation = Invitation.objects.get()
    assert response.json()["id"] == invitation.pk
    assert response.json()["role"] == "member"
    assert "token" not in response.json()
    assert [m.to for m in mail.outbox] == [[outsider.email]]

    invitee = api_client_for(outsider)
    assert [i["id"] for i in invitee.get("/api/v1/invitations/").json()["results"]] == [invitation.pk]
    accepted = invitee.post(f"/api/v1/invitations/{invitation.pk}/accept/")

    assert accepted.status_code == 200
    assert accepted.json()["organization"]["id"] == enterprise.pk
    assert Membership.objects.get(user=outsider).role == Membership.Role.MEMBER
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED


def test_a_plain_member_cannot_invite(api_client_for, verified_member, enterprise):
    response = api_client_for(verified_member).post(
        "/api/v1/invitations/", {"organization": enterprise.pk, "email": "x@example.com"}, format="json"
    )

    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_inviting_to_an_unknown_organization_is_a_field_error(api_client_for, outsider, pending_org):
    response = api_client_for(outsider).post(
        "/api/v1/invitations/", {"organization": pending_org.pk, "email": "x@example.com"}, format="json"
    )

    assert response.status_code == 400
    assert set(error(response)["fields"]) == {"organization"}


def test_someone_else_cannot_accept_an_invitation(api_client_for, enterprise, outsider, university_admin):
    invitation = InvitationFactory(organization=enterprise, email=outsider.email)

    response = api_client_for(university_admin).post(f"/api/v1/invitations/{invitation.pk}/accept/")

    assert response.status_code == 404
    assert not Membership.objects.filter(user=outsider).exists()


def test_admin_revokes_an_invitation(api_client_for, enterprise_admin, enterprise):
    invitation = InvitationFactory(organization=enterprise)

    response = api_client_for(enterprise_admin).post(f"/api/v1/invitations/{invitation.pk}/revoke/")

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert (
        api_client_for(enterprise_admin).post(f"/api/v1/invitations/{invitation.pk}/revoke/").status_code
        == 400
    )


# --- notifications ---------------------------------------------------------------------------------------


def test_notifications_are_private_and_can_be_marked_read(api_client_for, outsider):
    mine = NotificationFactory.create_batch(2, user=outsider)
    NotificationFactory()  # someone else's
    client = api_client_for(outsider)

    listed = client.get("/api/v1/notifications/").json()
    marked = client.post("/api/v1/notifications/mark-read/", {"ids": [mine[0].pk]}, format="json")
    unread = client.get("/api/v1/notifications/", {"unread": "true"}).json()

    assert {n["id"] for n in listed["results"]} == {n.pk for n in mine}
    assert marked.json() == {"marked": 1}
    assert [n["id"] for n in unread["results"]] == [mine[1].pk]
    assert client.post("/api/v1/notifications/mark-read/", {}, format="json").json() == {"marked": 1}
    assert Notification.objects.filter(user=outsider, read_at__isnull=True).count() == 0


# --- taxonomies ------------------------------------------------------------------------------------------


def test_fields_tree_has_the_11_national_fields(api_client):
    response = api_client.get("/api/v1/taxonomies/fields/")

    assert response.status_code == 200
    body = response.json()
    assert [f["code"] for f in body] == [
        "electronic_information",
        "advanced_manufacturing",
        "aerospace",
        "modern_transport",
        "biomedicine",
        "new_materials",
        "new_energy",
        "environment",
        "nuclear",
        "agriculture",
        "urban_social",
    ]
    first = body[0]
    assert (first["name"], first["name_zh"], first["name_en"], first["parent"]) == (
        "电子信息",
        "电子信息",
        "Electronic information",
        None,
    )
    assert all(child["parent"] == "electronic_information" for child in first["children"])
    assert "electronic_information.computer_network" in [c["code"] for c in first["children"]]


def test_field_names_follow_accept_language(api_client):
    body = api_client.get("/api/v1/taxonomies/fields/", HTTP_ACCEPT_LANGUAGE="en").json()

    assert body[0]["name"] == "Electronic information"


def test_a_sub_field_can_be_retrieved_by_its_dotted_code(api_client):
    response = api_client.get("/api/v1/taxonomies/fields/advanced_manufacturing.textiles/")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["parent"]) == ("纺织", "advanced_manufacturing")


def test_regions_filter_by_level_and_parent(api_client):
    provinces = api_client.get("/api/v1/taxonomies/regions/", {"level": "province"}).json()
    zhejiang = api_client.get(
        "/api/v1/taxonomies/regions/", {"parent": "330000"}, HTTP_ACCEPT_LANGUAGE="en"
    ).json()

    assert len(provinces) >= 34
    codes = {r["code"] for r in provinces}
    assert {"110000", "330000", "710000", "810000", "820000"} <= codes
    assert all(re.fullmatch(r"\d{2}0000", code) for code in codes)
    hangzhou = next(r for r in zhejiang if r["code"] == "330100")
    assert hangzhou == {
        "code": "330100",
        "name": "Hangzhou",
        "name_zh": "杭州市",
        "name_en": "Hangzhou",
        "level": "prefecture",
        "parent": "330000",
    }
    assert {r["code"] for r in zhejiang} >= {"330100", "330200"}
    assert all(r["parent"] == "330000" for r in zhejiang)


def test_code_lists_are_grouped_by_scheme(api_client):
    everything = api_client.get("/api/v1/taxonomies/code-lists/").json()
    contract_types = api_client.get("/api/v1/taxonomies/code-lists/", {"scheme": "contract_type"}).json()

    assert sorted(group["scheme"] for group in everything) == sorted(CODE_LISTS)
    assert contract_types == [
        {
            "scheme": "contract_type",
            "codes": [
                {
                    "code": "development",
                    "name": "技术开发",
                    "name_zh": "技术开发",
                    "name_en": "Technology development",
                },
                {
                    "code": "transfer",
                    "name": "技术转让",
                    "name_zh": "技术转让",
                    "name_en": "Technology transfer",
                },
                {
                    "code": "consulting",
                    "name": "技术咨询",
                    "name_zh": "技术咨询",
                    "name_en": "Technology consulting",
                },
                {
                    "code": "service",
                    "name": "技术服务",
                    "name_zh": "技术服务",
                    "name_en": "Technology service",
                },
            ],
        }
    ]


# --- schema and docs -------------------------------------------------------------------------------------


def test_api_root_lists_the_endpoints(api_client):
    body = api_client.get("/api/v1/").json()

    assert {"organizations", "memberships", "invitations", "join-requests", "notifications"} <= set(body)


def test_schema_is_served(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/auth/token/", "/api/v1/organizations/{id}/contact/"} <= set(schema["paths"])


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_work_offline(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r"""<(?:script|link)[^>]+(?:src|href)=["']([^"']+)""", html)
    assert sources
    assert not [src for src in sources if src.startswith(("http:", "https:", "//"))]


def test_swagger_ui_does_not_call_the_online_validator(api_client):
    html = api_client.get("/api/docs/").content.decode()

    assert '"validatorUrl": null' in html


# --- query counts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 5])
def test_organization_list_query_count_is_fixed(api_client, django_assert_num_queries, rows):
    EnterpriseFactory.create_batch(rows, fields=["agriculture", "new_materials.polymers"])

    # count, page, prefetch of fields
    with django_assert_num_queries(3):
        response = api_client.get(ORGS)

    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 5])
def test_authenticated_list_query_counts_are_fixed(api_client, outsider, django_assert_num_queries, rows):
    organizations = EnterpriseFactory.create_batch(rows)
    for organization in organizations:
        MembershipFactory(organization=organization, user=outsider, admin=True)
        InvitationFactory(organization=organization, invited_by=organization.created_by, email=outsider.email)
        JoinRequestFactory(organization=organization)
    NotificationFactory.create_batch(rows, user=outsider)
    api_client.force_authenticate(outsider)

    # count + page for every list (the user comes from force_authenticate, no session)
    for url in [
        "/api/v1/memberships/",
        "/api/v1/invitations/",
        "/api/v1/join-requests/",
        "/api/v1/notifications/",
    ]:
        with django_assert_num_queries(2):
            response = api_client.get(url)
        assert response.status_code == 200
    with django_assert_num_queries(3):  # count, page, prefetch of fields
        assert api_client.get(ORGS).json()["count"] == rows
    with django_assert_num_queries(2):  # the user, then the memberships with their organizations
        assert len(api_client.get("/api/v1/me/").json()["memberships"]) == rows


def test_an_api_request_in_english_leaves_the_default_language_active_afterwards(api_client):
    from django.utils import translation

    response = api_client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.headers["Content-Language"] == "en"
    assert translation.get_language() == "zh-hans"
