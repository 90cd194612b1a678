import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from marketplace.models import Organization, User

pytestmark = pytest.mark.django_db


def test_home_is_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in response.content.decode()
    assert "网上技术市场" in response.content.decode()


def test_english_home_under_en_prefix(client):
    response = client.get("/en/")
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert "Online Technology Market" in response.content.decode()


def test_language_switch_redirects_to_the_english_page(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/organizations/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/organizations/"
    back = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/en/organizations/"})
    assert back["Location"] == "/organizations/"


def test_signup_verify_and_login_by_email(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:signup"),
            {
                "username": "zhangwei",
                "email": "zhang.wei@example.com",
                "full_name": "张伟",
                "password1": "Kettle-9-Harbour",
                "password2": "Kettle-9-Harbour",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(username="zhangwei")
    assert user.email_verified_at is None
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/verify/\S+/", mail.outbox[0].body).group(0)

    client.get(link.replace("http://127.0.0.1:8000", ""))
    user.refresh_from_db()
    assert user.email_verified_at is not None

    client.logout()
    assert client.login(username="ZHANG.WEI@example.com", password="Kettle-9-Harbour")


def test_signup_duplicate_email_is_refused(client, outsider):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "someone",
            "email": outsider.email.upper(),
            "password1": "Kettle-9-Harbour",
            "password2": "Kettle-9-Harbour",
        },
    )
    assert response.status_code == 200
    assert User.objects.filter(email__iexact=outsider.email).count() == 1
    assert not User.objects.filter(username="someone").exists()


def test_verification_link_cannot_be_reused_after_email_change(client, outsider):
    from marketplace.services.accounts import verification_link

    outsider.email_verified_at = None
    outsider.save()
    link = verification_link(outsider).replace("http://127.0.0.1:8000", "")
    outsider.email = "new@example.com"
    outsider.save()
    client.get(link)
    outsider.refresh_from_db()
    assert outsider.email_verified_at is None


def test_password_reset_mail_is_sent_after_commit(client, outsider, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("accounts:password_reset"), {"email": outsider.email})
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/" in mail.outbox[0].body


def test_dashboard_needs_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_organization_form_shows_bilingual_errors(client, outsider):
    client.force_login(outsider)
    data = {
        "name": "宁波甬江新材料有限公司",
        "org_type": "enterprise",
        "credit_code": "91330100MA27XL0E2Y",
        "region": "330200",
    }
    with translation.override("zh-hans"):
        zh = client.post(reverse("organizations:create"), data)
    with translation.override("en"):
        en = client.post(reverse("organizations:create"), data)
    assert en.request["PATH_INFO"] == "/en/organizations/new/"
    assert zh.status_code == en.status_code == 200
    assert "校验" in zh.content.decode()
    assert "check character" in en.content.decode()
    assert Organization.objects.count() == 0


def test_organization_created_through_the_website(client, outsider):
    client.force_login(outsider)
    response = client.post(
        reverse("organizations:create"),
        {
            "name": "宁波甬江新材料有限公司",
            "org_type": "enterprise",
            "credit_code": "91330100MA27XL0E2G",
            "region": "330200",
            "fields": ["new_materials"],
        },
    )
    org = Organization.objects.get(name="宁波甬江新材料有限公司")
    assert response.status_code == 302
    assert response["Location"] == reverse("organizations:detail", args=[org.pk])
    assert org.status == Organization.Status.PENDING


def test_pending_organization_is_404_for_outsiders(client, pending_org, outsider):
    url = reverse("organizations:detail", args=[pending_org.pk])
    assert client.get(url).status_code == 404
    client.force_login(outsider)
    response = client.get(url)
    assert response.status_code == 404
    assert "404" in response.content.decode()


def test_pending_organization_is_visible_to_its_members_and_staff(
    client, pending_org, pending_admin, staff_user
):
    url = reverse("organizations:detail", args=[pending_org.pk])
    client.force_login(pending_admin)
    assert client.get(url).status_code == 200
    client.force_login(staff_user)
    assert client.get(url).status_code == 200


CONTACT = "contact-person-for-test"


@pytest.mark.parametrize(
    ("persona", "sees_contact"),
    [
        ("anonymous", False),
        ("outsider", False),
        ("unverified_member", False),
        ("verified_member", True),
        ("enterprise_admin", True),
        ("staff_user", True),
    ],
)
def test_contact_details_permission_matrix(client, request, university, persona, sees_contact):
    # The university is verified; its contact details are for those acting for a verified organization.
    Organization.objects.filter(pk=university.pk).update(contact_name=CONTACT)
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("organizations:detail", args=[university.pk]))
    assert response.status_code == 200
    assert (CONTACT in response.content.decode()) is sees_contact


def test_directory_lists_verified_organizations_only(client, enterprise, pending_org):
    response = client.get(reverse("organizations:list"))
    body = response.content.decode()
    assert enterprise.name in body
    assert pending_org.name not in body


def test_directory_filters_by_province(client, enterprise):
    # enterprise is in a Zhejiang city; the province filter includes its cities.
    province = enterprise.region.province_code
    assert enterprise.name in client.get(reverse("organizations:list"), {"region": province}).content.decode()
    assert (
        enterprise.name
        not in client.get(reverse("organizations:list"), {"region": "110000"}).content.decode()
    )


def test_plain_member_cannot_edit_the_profile(client, enterprise, verified_member):
    client.force_login(verified_member)
    response = client.post(reverse("organizations:edit", args=[enterprise.pk]), {"region": "330100"})
    assert response.status_code == 403
    assert "403" in response.content.decode()


def test_document_download_is_private(client, enterprise, enterprise_admin, outsider, staff_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from marketplace import services

    document = services.credential_document_add(
        organization=enterprise,
        actor=enterprise_admin,
        kind="business_license",
        uploaded=SimpleUploadedFile("licence.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"),
    )
    url = reverse("organizations:document_download", args=[document.pk])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(enterprise_admin)
    assert client.get(url).status_code == 200
    client.force_login(staff_user)
    assert client.get(url).status_code == 200


def test_upload_of_wrong_type_through_the_website(client, enterprise, enterprise_admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(enterprise_admin)
    response = client.post(
        reverse("organizations:documents", args=[enterprise.pk]),
        {"kind": "business_license", "file": SimpleUploadedFile("licence.pdf", b"plain text")},
        follow=True,
    )
    assert "PDF" in response.content.decode()
    assert enterprise.documents.count() == 0


def test_unknown_page_is_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "404" in response.content.decode()


def test_healthz(client):
    assert client.get("/healthz/").json() == {"status": "ok"}


def test_static_css_is_served(client):
    from django.contrib.staticfiles import finders

    assert finders.find("css/site.css")
