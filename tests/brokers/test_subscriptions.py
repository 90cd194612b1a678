"""Subscriptions (SPEC §6): the rules of the services, the preview that shares the digest's criteria, the
website pages and the API — each only for the subscription's owner."""

import io
from datetime import datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS

from brokers import selectors, services
from brokers.digest import digest_for_user
from brokers.models import Subscription
from marketplace.exceptions import ApplicationError
from tests.factories import DemandFactory, EnterpriseFactory, UserFactory
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def follower():
    return UserFactory(username="follower")


def subscribe(user, **data) -> Subscription:
    return services.subscription_create(user=user, **{"keywords": "注塑", **data})


def snapshot(subscription: Subscription) -> dict:
    row = Subscription.objects.get(pk=subscription.pk)
    return {key: getattr(row, key) for key in services.EDITABLE}


def published(record, *, days_ago: float):
    type(record).objects.filter(pk=record.pk).update(published_at=NOW - timedelta(days=days_ago))
    record.refresh_from_db()
    return record


# --- services: creation and its rules -----------------------------------------------------------------------


def test_create_normalises_keywords_and_codes(follower):
    subscription = services.subscription_create(
        user=follower,
        name="  注塑工艺  ",
        kind="demands",
        field_codes=["advanced_manufacturing", "new_materials.polymers", "advanced_manufacturing"],
        region_codes=["330000", "440300", "330000"],
        keywords=" 注塑，模具、PLC plc;银纹；注塑\u3000气泡 ",
    )

    assert snapshot(subscription) == {
        "name": "注塑工艺",
        "kind": "demands",
        "field_codes": ["advanced_manufacturing", "new_materials.polymers"],
        "region_codes": ["330000", "440300"],
        "keywords": "注塑 模具 PLC 银纹 气泡",
        "is_active": True,
    }
    assert subscription.user == follower


def test_a_name_is_optional_and_defaults_apply(follower):
    first = services.subscription_create(user=follower, region_codes=["330100"])
    second = services.subscription_create(user=follower, field_codes=["agriculture"])

    assert snapshot(first) == {
        "name": "",
        "kind": "both",
        "field_codes": [],
        "region_codes": ["330100"],
        "keywords": "",
        "is_active": True,
    }
    assert snapshot(second)["name"] == ""


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, {"non_field_errors": ["请至少选择一个技术领域、地区或关键词。"]}),
        ({"keywords": " ，、 ; "}, {"non_field_errors": ["请至少选择一个技术领域、地区或关键词。"]}),
        ({"field_codes": ["teleportation"]}, {"field_codes": ["未知的技术领域：teleportation。"]}),
        (
            {"field_codes": ["agriculture", "agriculture.warp", "x"]},
            {"field_codes": ["未知的技术领域：agriculture.warp、x。"]},
        ),
        ({"region_codes": ["330000", "123456"]}, {"region_codes": ["未知的地区：123456。"]}),
        ({"region_codes": "330000"}, {"region_codes": ["请提供代码列表。"]}),
        ({"field_codes": [1]}, {"field_codes": ["请提供代码列表。"]}),
        (
            {"keywords": "注塑 " + "很" * 21},
            {"keywords": [f"每个关键词不超过 20 个字：“{'很' * 21}”太长。"]},
        ),
        (
            {"keywords": " ".join(f"词{i}" for i in range(11))},
            {"keywords": ["关键词最多 10 个（您填写了 11 个）。"]},
        ),
        ({"keywords": "注塑", "kind": "experts"}, {"kind": ["请选择技术需求、科技成果或两者。"]}),
        ({"keywords": "注塑", "name": "名" * 61}, {"name": ["名称不超过 60 个字。"]}),
        (
            {"field_codes": ["nope"], "region_codes": ["000000"], "kind": "x"},
            {
                "field_codes": ["未知的技术领域：nope。"],
                "region_codes": ["未知的地区：000000。"],
                "kind": ["请选择技术需求、科技成果或两者。"],
            },
        ),
    ],
)
def test_bad_input_is_refused_with_field_errors_and_nothing_is_created(follower, data, errors):
    with pytest.raises(ValidationError) as caught:
        services.subscription_create(user=follower, **data)

    assert caught.value.message_dict == errors
    assert not Subscription.objects.exists()


def test_ten_keywords_of_twenty_characters_fit(follower):
    keywords = [f"{i:02d}" + "字" * 18 for i in range(10)]

    subscription = services.subscription_create(user=follower, keywords="，".join(keywords))

    assert subscription.keywords.split() == keywords
    assert len(subscription.keywords) == 209


def test_duplicate_keywords_count_once_towards_the_limit(follower):
    subscription = services.subscription_create(
        user=follower, keywords=" ".join(f"词{i}" for i in range(10)) + " 词0 词9"
    )

    assert len(subscription.keywords.split()) == 10


def test_the_cap_counts_paused_subscriptions_and_creates_nothing_more(follower):
    Subscription.objects.bulk_create(
        [
            Subscription(user=follower, keywords=f"词{i}", is_active=i % 2 == 0)
            for i in range(services.MAX_SUBSCRIPTIONS_PER_USER)
        ]
    )

    with pytest.raises(ApplicationError) as caught:
        services.subscription_create(user=follower, keywords="注塑")

    assert caught.value.code == "too_many_subscriptions"
    assert str(caught.value) == "每位用户最多 20 个订阅。请删除不再需要的订阅，或放宽已有订阅的条件。"
    assert Subscription.objects.filter(user=follower).count() == 20
    # Another user is not concerned.
    assert services.subscription_create(user=UserFactory(), keywords="注塑").pk


def test_the_cap_message_is_english_for_english_readers(follower):
    from django.utils import translation

    Subscription.objects.bulk_create(
        [Subscription(user=follower, keywords=f"k{i}") for i in range(services.MAX_SUBSCRIPTIONS_PER_USER)]
    )

    with translation.override("en"), pytest.raises(ApplicationError) as caught:
        services.subscription_create(user=follower, keywords="x")

    assert str(caught.value) == (
        "You can have at most 20 subscriptions. Delete one you no longer need, or widen an existing one."
    )


def test_names_are_distinct_per_user_only(follower):
    subscribe(follower, name="模具")

    with pytest.raises(ValidationError) as caught:
        subscribe(follower, name=" 模具 ")

    assert caught.value.message_dict == {"name": ["您已有同名的订阅。"]}
    assert Subscription.objects.filter(user=follower).count() == 1
    assert subscribe(UserFactory(), name="模具").name == "模具"


def test_a_name_taken_by_a_concurrent_request_is_the_same_field_error(follower, monkeypatch):
    subscribe(follower, name="模具")
    # The other request saved its row after this one checked: only the unique constraint sees it.
    monkeypatch.setattr(services, "_check_name_free", lambda **kwargs: None)

    with pytest.raises(ValidationError) as caught:
        subscribe(follower, name="模具")

    assert caught.value.message_dict == {"name": ["您已有同名的订阅。"]}
    assert Subscription.objects.filter(user=follower).count() == 1


@pytest.mark.parametrize(
    "row",
    [
        pytest.param({"field_codes": [], "region_codes": [], "keywords": ""}, id="no criterion"),
        pytest.param({"keywords": "x", "name": "same"}, id="same name"),
    ],
)
def test_the_database_holds_the_invariants_too(follower, row):
    Subscription.objects.create(user=follower, keywords="y", name="same")

    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(user=follower, **row)

    assert Subscription.objects.filter(user=follower).count() == 1


# --- services: update, pause, resume, delete -----------------------------------------------------------------


def test_update_changes_what_is_given_and_keeps_the_rest(follower):
    subscription = subscribe(follower, name="注塑", field_codes=["advanced_manufacturing"])

    updated = services.subscription_update(
        subscription=subscription, region_codes=["330000"], keywords="模具，模具"
    )

    assert snapshot(updated) == {
        "name": "注塑",
        "kind": "both",
        "field_codes": ["advanced_manufacturing"],
        "region_codes": ["330000"],
        "keywords": "模具",
        "is_active": True,
    }


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"field_codes": [], "keywords": ""},
            {"non_field_errors": ["请至少选择一个技术领域、地区或关键词。"]},
        ),
        ({"region_codes": ["999999"], "name": "新名"}, {"region_codes": ["未知的地区：999999。"]}),
        ({"name": "已有"}, {"name": ["您已有同名的订阅。"]}),
    ],
)
def test_a_refused_update_changes_nothing(follower, changes, errors):
    subscribe(follower, name="已有")
    subscription = subscribe(follower, name="注塑", field_codes=["advanced_manufacturing"])
    before = snapshot(subscription)

    with pytest.raises(ValidationError) as caught:
        services.subscription_update(subscription=subscription, **changes)

    assert caught.value.message_dict == errors
    assert snapshot(subscription) == before


def test_pause_and_resume_are_guarded_transitions(follower):
    subscription = subscribe(follower)

    assert services.subscription_pause(subscription=subscription).is_active is False
    with pytest.raises(ApplicationError) as again:
        services.subscription_pause(subscription=subscription)
    assert (again.value.code, str(again.value)) == ("bad_state", "该订阅已暂停。")
    assert snapshot(subscription)["is_active"] is False

    assert services.subscription_resume(subscription=subscription).is_active is True
    with pytest.raises(ApplicationError) as twice:
        services.subscription_resume(subscription=subscription)
    assert str(twice.value) == "该订阅已在启用中。"
    assert snapshot(subscription)["is_active"] is True


def test_a_paused_subscription_brings_nothing_in_the_digest(follower):
    subscription = subscribe(follower)
    fits = published(DemandFactory(title="注塑件缩痕"), days_ago=0.5)
    day = timezone.localdate(fits.published_at)

    assert [d.pk for d in digest_for_user(user=follower, day=day)[0]] == [fits.pk]
    services.subscription_pause(subscription=subscription)
    assert digest_for_user(user=follower, day=day) == ([], [])


def test_delete_removes_only_that_subscription(follower):
    kept, gone = subscribe(follower, name="留"), subscribe(follower, name="删")

    services.subscription_delete(subscription=gone)

    assert list(Subscription.objects.values_list("pk", flat=True)) == [kept.pk]


# --- the preview shares the digest's criteria ----------------------------------------------------------------


@pytest.fixture
def recent_market(enterprise, university):
    """Demands and listings of the last days, in and out of the follower's criteria."""
    other_enterprise = EnterpriseFactory()
    return {
        "fits": published(DemandFactory(owner=other_enterprise, title="注塑模具冷却不均"), days_ago=1),
        "fits_city": published(
            DemandFactory(owner=other_enterprise, title="注塑件银纹", region_code="330200"), days_ago=6.9
        ),
        "too_old": published(DemandFactory(owner=other_enterprise, title="注塑周期长"), days_ago=7.1),
        "other_region": published(
            DemandFactory(owner=other_enterprise, title="注塑废料", region_code="440300"), days_ago=1
        ),
        "no_keyword": published(
            DemandFactory(owner=other_enterprise, title="齿轮箱异响", summary="减速机运行噪声大。"),
            days_ago=1,
        ),
        "own": published(DemandFactory(owner=enterprise, title="我们自己的注塑需求"), days_ago=1),
        "draft": DemandFactory(owner=other_enterprise, title="注塑草稿", draft=True),
        "listing": published(make_listing(university, title="注塑模具随形冷却"), days_ago=2),
        "listing_old": published(make_listing(university, title="注塑原料干燥"), days_ago=8),
    }


def test_preview_counts_what_the_digest_would_have_brought(enterprise_admin, recent_market):
    both = Subscription(user=enterprise_admin, kind="both", region_codes=["330000"], keywords="注塑 模具")
    demands_only = Subscription(user=enterprise_admin, kind="demands", keywords="齿轮 废料")
    listings_only = Subscription(
        user=enterprise_admin, kind="listings", field_codes=["advanced_manufacturing"]
    )

    counts = selectors.subscription_previews(
        user=enterprise_admin, subscriptions=[both, demands_only, listings_only], now=NOW
    )

    # fits + fits_city (a province covers its cities); not too_old, other_region, no_keyword, own, draft.
    assert counts == [
        {"demands": 2, "listings": 1},
        {"demands": 2, "listings": None},
        {"demands": None, "listings": 1},
    ]


def test_preview_and_digest_agree_day_by_day(enterprise_admin, recent_market):
    subscription = subscribe(enterprise_admin, region_codes=["330000"], keywords="注塑 模具")
    from_digest, from_preview = [], []
    for days_ago in range(10):
        day = timezone.localdate(NOW) - timedelta(days=days_ago)
        start = timezone.make_aware(datetime.combine(day, time.min))
        demands, listings = digest_for_user(user=enterprise_admin, day=day)
        from_digest.append({"demands": len(demands), "listings": len(listings)})
        from_preview += selectors.subscription_previews(
            user=enterprise_admin, subscriptions=[subscription], days=1, now=start + timedelta(days=1)
        )

    assert from_preview == from_digest
    # fits, fits_city and too_old; listing and listing_old — each on its own day.
    assert sum(row["demands"] for row in from_digest) == 3
    assert sum(row["listings"] for row in from_digest) == 2


def test_preview_of_nothing_queries_nothing(follower, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.subscription_previews(user=follower, subscriptions=[]) == []


# --- website -------------------------------------------------------------------------------------------------

LIST = reverse("subscriptions:list")
CREATE = reverse("subscriptions:create")


def url(name, subscription):
    return reverse(f"subscriptions:{name}", kwargs={"pk": subscription.pk})


def form_data(**overrides):
    return {"name": "", "kind": "both", "field_codes": [], "region_codes": [], "keywords": "", **overrides}


def test_the_list_shows_mine_with_what_each_follows_and_its_preview(
    client_for, enterprise_admin, recent_market
):
    subscribe(
        enterprise_admin,
        name="浙江注塑",
        field_codes=["advanced_manufacturing", "new_materials.polymers"],
        region_codes=["330000", "330200"],
        keywords="注塑 模具",
    )
    paused = subscribe(enterprise_admin, kind="listings", keywords="干燥")
    services.subscription_pause(subscription=paused)
    subscribe(UserFactory(), name="别人的订阅")

    response = client_for(enterprise_admin).get(LIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert "浙江注塑" in html
    assert "技术需求和科技成果" in html
    assert "领域：先进制造、高分子材料" in html
    assert "地区：浙江省、浙江省宁波市" in html
    assert '关键词：<span class="tag">注塑</span><span class="tag">模具</span>' in html
    assert "2 项技术需求 · 1 项科技成果" in html
    assert "订阅 2" in html  # the unnamed one
    assert '<span class="status status-paused">已暂停</span>' in html
    assert "0 项科技成果" in html  # the paused listings subscription: 干燥 was published 8 days ago
    assert url("resume", paused) in html
    assert "别人的订阅" not in html


def test_the_list_is_in_english_for_english_readers(client_for, follower):
    subscribe(follower, region_codes=["330100"], keywords="mould")

    html = client_for(follower).get("/en" + LIST).content.decode()

    assert "Regions: Hangzhou, Zhejiang</li>" in html
    assert 'Keywords: <span class="tag">mould</span>' in html
    assert "0 demands · 0 listings" in html
    assert "My subscriptions" in html


def test_the_list_costs_the_same_queries_for_one_or_many_subscriptions(
    client_for, follower, django_assert_num_queries
):
    client = client_for(follower)
    subscribe(follower, field_codes=["agriculture"], region_codes=["330100"])
    client.get(LIST)  # warm the session
    # session, user, unread notifications (base page), subscriptions, field names, region names, demand
    # counts, listing counts
    with django_assert_num_queries(8) as one:
        assert client.get(LIST).status_code == 200
    for i in range(5):
        subscribe(follower, name=f"s{i}", field_codes=["new_materials"], region_codes=["110000"], kind="both")
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(LIST).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in_and_nothing_changes(client, follower):
    subscription = subscribe(follower)
    before = snapshot(subscription)

    for method, target in [
        ("get", LIST),
        ("get", CREATE),
        ("post", CREATE),
        ("get", url("edit", subscription)),
        ("post", url("edit", subscription)),
        ("get", url("delete", subscription)),
        ("post", url("delete", subscription)),
        ("post", url("pause", subscription)),
        ("post", url("resume", subscription)),
    ]:
        response = getattr(client, method)(target, form_data(keywords="改"))
        assert response.status_code == 302, target
        assert response["Location"].startswith(reverse("accounts:login")), target

    assert snapshot(subscription) == before
    assert Subscription.objects.count() == 1


def test_another_user_gets_404_everywhere_and_nothing_changes(client_for, follower, outsider):
    subscription = subscribe(follower, name="秘密订阅")
    before = snapshot(subscription)
    client = client_for(outsider)

    for method, name in [
        ("get", "edit"),
        ("post", "edit"),
        ("get", "delete"),
        ("post", "delete"),
        ("post", "pause"),
        ("post", "resume"),
    ]:
        response = getattr(client, method)(url(name, subscription), form_data(keywords="改"))
        assert response.status_code == 404, (method, name)

    assert snapshot(subscription) == before
    assert "秘密订阅" not in client.get(LIST).content.decode()


def test_create_saves_and_goes_back_to_the_list(client_for, follower):
    response = client_for(follower).post(
        CREATE,
        form_data(
            name="杭州模具",
            kind="demands",
            field_codes=["advanced_manufacturing", "advanced_manufacturing.moulds_plastics"],
            region_codes=["330100"],
            keywords="注塑、模具 注塑",
            action="save",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert snapshot(Subscription.objects.get(user=follower)) == {
        "name": "杭州模具",
        "kind": "demands",
        "field_codes": ["advanced_manufacturing", "advanced_manufacturing.moulds_plastics"],
        "region_codes": ["330100"],
        "keywords": "注塑 模具",
        "is_active": True,
    }


def test_the_form_offers_fields_with_sub_fields_and_provinces_with_cities(client_for, follower):
    html = client_for(follower).get(CREATE).content.decode()

    assert '<select name="field_codes" size="10"' in html
    assert '<optgroup label="先进制造">' in html
    assert '<option value="advanced_manufacturing.moulds_plastics">' in html
    assert '<optgroup label="浙江省">' in html
    assert '<option value="330000">浙江省</option>' in html
    assert '<option value="330100">　杭州市</option>' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form_data(), "请至少选择一个技术领域、地区或关键词。"),
        (form_data(keywords="很" * 21), f"每个关键词不超过 20 个字：“{'很' * 21}”太长。"),
        (form_data(region_codes=["123456"]), "123456"),  # not among the choices
    ],
)
def test_a_refused_creation_shows_the_error_and_creates_nothing(client_for, follower, data, message):
    response = client_for(follower).post(CREATE, {**data, "action": "save"})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Subscription.objects.exists()


def test_the_website_refuses_the_twenty_first_subscription(client_for, follower):
    Subscription.objects.bulk_create(
        [Subscription(user=follower, keywords=f"k{i}") for i in range(services.MAX_SUBSCRIPTIONS_PER_USER)]
    )
    client = client_for(follower)

    response = client.post(CREATE, form_data(keywords="注塑", action="save"))

    assert response.status_code == 200
    assert "每位用户最多 20 个订阅。" in response.content.decode()
    assert Subscription.objects.filter(user=follower).count() == 20
    listing_page = client.get(LIST).content.decode()
    assert "您已有 20 个订阅，已达上限。" in listing_page
    assert f'href="{CREATE}"' not in listing_page


def test_preview_on_the_form_counts_and_saves_nothing(client_for, enterprise_admin, recent_market):
    response = client_for(enterprise_admin).post(
        CREATE, form_data(kind="demands", region_codes=["330000"], keywords="注塑", action="preview")
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "最近 7 天发布且符合这些条件的有：" in html
    assert "<strong>2 项技术需求</strong>" in html
    assert 'value="注塑"' in html  # the form keeps what was typed
    assert not Subscription.objects.exists()


def test_preview_of_a_refused_form_shows_the_error(client_for, follower):
    response = client_for(follower).post(CREATE, form_data(action="preview"))

    assert "请至少选择一个技术领域、地区或关键词。" in response.content.decode()
    assert 'id="preview"' not in response.content.decode()


def test_edit_shows_the_current_criteria_and_saves_changes(client_for, follower):
    subscription = subscribe(follower, name="旧名", region_codes=["330000"], keywords="注塑 模具")
    client = client_for(follower)

    page = client.get(url("edit", subscription))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="旧名"' in html
    assert 'value="注塑 模具"' in html
    assert '<option value="330000" selected>浙江省</option>' in html
    assert 'id="preview"' in html

    response = client.post(
        url("edit", subscription),
        form_data(name="新名", kind="listings", field_codes=["new_materials"], keywords="", action="save"),
    )

    assert response.status_code == 302
    assert snapshot(subscription) == {
        "name": "新名",
        "kind": "listings",
        "field_codes": ["new_materials"],
        "region_codes": [],
        "keywords": "",
        "is_active": True,
    }


def test_a_refused_edit_changes_nothing(client_for, follower):
    subscription = subscribe(follower, name="原样", keywords="注塑")
    before = snapshot(subscription)

    response = client_for(follower).post(url("edit", subscription), form_data(name="改", action="save"))

    assert response.status_code == 200
    assert "请至少选择一个技术领域、地区或关键词。" in response.content.decode()
    assert snapshot(subscription) == before


def test_delete_asks_first_then_deletes_on_post(client_for, follower):
    subscription = subscribe(follower, name="要删的")
    client = client_for(follower)

    page = client.get(url("delete", subscription))
    assert page.status_code == 200
    assert "删除“要删的”？" in page.content.decode()
    assert Subscription.objects.filter(pk=subscription.pk).exists()

    response = client.post(url("delete", subscription))
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not Subscription.objects.filter(pk=subscription.pk).exists()


def test_pause_and_resume_from_the_list(client_for, follower):
    subscription = subscribe(follower)
    client = client_for(follower)

    assert client.get(url("pause", subscription)).status_code == 405
    assert snapshot(subscription)["is_active"] is True

    client.post(url("pause", subscription))
    assert snapshot(subscription)["is_active"] is False
    again = client.post(url("pause", subscription), follow=True)
    assert "该订阅已暂停。" in again.content.decode()
    assert snapshot(subscription)["is_active"] is False

    client.post(url("resume", subscription))
    assert snapshot(subscription)["is_active"] is True


def test_the_dashboard_and_the_navigation_lead_to_the_subscriptions(client_for, follower):
    client = client_for(follower)

    empty = client.get(reverse("dashboard")).content.decode()
    assert f'href="{LIST}"' in empty  # navigation
    assert f'href="{CREATE}"' in empty
    subscribe(follower)
    services.subscription_pause(subscription=subscribe(follower, keywords="模具"))

    html = client.get(reverse("dashboard")).content.decode()
    assert "共 2 个订阅，其中 1 个启用" in html
    assert "管理订阅" in html


# --- API -----------------------------------------------------------------------------------------------------

API = "/api/v1/subscriptions/"


def api_url(subscription, suffix=""):
    return f"{API}{subscription.pk}/{suffix}"


def test_api_create_returns_the_normalised_subscription(api_client_for, follower):
    response = api_client_for(follower).post(
        API,
        {
            "name": "模具",
            "kind": "listings",
            "field_codes": ["advanced_manufacturing"],
            "region_codes": ["330000", "330000"],
            "keywords": "注塑，模具",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    subscription = Subscription.objects.get(user=follower)
    assert body == {
        "id": subscription.pk,
        "name": "模具",
        "kind": "listings",
        "field_codes": ["advanced_manufacturing"],
        "region_codes": ["330000"],
        "keywords": "注塑 模具",
        "is_active": True,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }


def test_api_list_and_retrieve_only_mine(api_client_for, follower, django_assert_num_queries):
    mine = [subscribe(follower, name=f"s{i}") for i in range(3)]
    subscribe(UserFactory(), name="theirs")
    client = api_client_for(follower)
    client.get(API)  # warm the session

    with django_assert_num_queries(4):  # session, user, count, page
        body = client.get(API).json()

    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == [s.pk for s in mine]
    assert client.get(api_url(mine[1])).json()["name"] == "s1"


def test_api_put_replaces_and_patch_changes_some(api_client_for, follower):
    subscription = subscribe(follower, name="原", region_codes=["330000"], kind="demands")
    client = api_client_for(follower)

    put = client.put(api_url(subscription), {"field_codes": ["agriculture"]}, format="json")
    assert put.status_code == 200
    assert snapshot(subscription) == {
        "name": "",
        "kind": "both",
        "field_codes": ["agriculture"],
        "region_codes": [],
        "keywords": "",
        "is_active": True,
    }

    patch = client.patch(api_url(subscription), {"is_active": False, "keywords": "育种"}, format="json")
    assert patch.status_code == 200
    assert patch.json()["is_active"] is False
    assert snapshot(subscription) == {
        "name": "",
        "kind": "both",
        "field_codes": ["agriculture"],
        "region_codes": [],
        "keywords": "育种",
        "is_active": False,
    }


def test_api_delete(api_client_for, follower):
    subscription = subscribe(follower)

    response = api_client_for(follower).delete(api_url(subscription))

    assert response.status_code == 204
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"kind": "both"}, {"non_field_errors": ["请至少选择一个技术领域、地区或关键词。"]}),
        (
            {"field_codes": ["nope"], "region_codes": ["000000"]},
            {"field_codes": ["未知的技术领域：nope。"], "region_codes": ["未知的地区：000000。"]},
        ),
        ({"keywords": "很" * 21}, {"keywords": [f"每个关键词不超过 20 个字：“{'很' * 21}”太长。"]}),
        ({"field_codes": "agriculture"}, {"field_codes": ["期望为一个包含物件的列表，得到的类型是“str”。"]}),
        ({"keywords": "注塑", "kind": "experts"}, {"kind": ["“experts” 不是合法选项。"]}),
        ({"keywords": "注塑", "is_active": "maybe"}, {"is_active": ["必须是有效的布尔值。"]}),
    ],
)
def test_api_bad_input_is_a_400_with_field_errors_and_nothing_is_created(
    api_client_for, follower, payload, fields
):
    response = api_client_for(follower).post(API, payload, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["fields"] == fields
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("method", "payload", "fields"),
    [
        ("patch", {"keywords": " "}, {"non_field_errors": ["请至少选择一个技术领域、地区或关键词。"]}),
        ("put", {"name": "新名"}, {"non_field_errors": ["请至少选择一个技术领域、地区或关键词。"]}),
        ("patch", {"region_codes": ["330000", "000000"]}, {"region_codes": ["未知的地区：000000。"]}),
        ("patch", {"name": "另一个"}, {"name": ["您已有同名的订阅。"]}),
    ],
)
def test_api_refused_changes_are_400_and_change_nothing(api_client_for, follower, method, payload, fields):
    subscribe(follower, name="另一个")
    existing = subscribe(follower, name="原样")
    before = snapshot(existing)

    response = getattr(api_client_for(follower), method)(api_url(existing), payload, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields
    assert snapshot(existing) == before


def test_api_cap_is_a_400_with_its_code(api_client_for, follower):
    Subscription.objects.bulk_create(
        [Subscription(user=follower, keywords=f"k{i}") for i in range(services.MAX_SUBSCRIPTIONS_PER_USER)]
    )

    response = api_client_for(follower).post(
        API, {"keywords": "注塑"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "too_many_subscriptions",
        "message": "You can have at most 20 subscriptions. Delete one you no longer need, or widen an existing one.",
    }
    assert Subscription.objects.filter(user=follower).count() == 20


def test_api_anonymous_gets_401(api_client, follower):
    subscription = subscribe(follower)

    assert api_client.get(API).status_code == 401
    assert api_client.post(API, {"keywords": "x"}, format="json").status_code == 401
    assert api_client.delete(api_url(subscription)).status_code == 401
    assert Subscription.objects.count() == 1


def test_api_another_users_subscription_is_404_and_unchanged(api_client_for, follower, outsider):
    subscription = subscribe(follower, name="我的")
    before = snapshot(subscription)
    client = api_client_for(outsider)

    assert client.get(api_url(subscription)).status_code == 404
    assert client.get(api_url(subscription, "preview/")).status_code == 404
    assert client.put(api_url(subscription), {"keywords": "改"}, format="json").status_code == 404
    assert client.patch(api_url(subscription), {"is_active": False}, format="json").status_code == 404
    assert client.delete(api_url(subscription)).status_code == 404
    assert client.get(API).json()["count"] == 0
    assert snapshot(subscription) == before


def test_api_preview(api_client_for, enterprise_admin, recent_market):
    subscription = subscribe(enterprise_admin, kind="demands", region_codes=["330000"], keywords="注塑")

    response = api_client_for(enterprise_admin).get(api_url(subscription, "preview/"))

    assert response.status_code == 200
    assert response.json() == {"days": 7, "demands": 2, "listings": None}


def test_the_api_is_throttled_like_the_rest():
    from brokers.api import SubscriptionViewSet
    from marketplace.api.throttling import AnonRateThrottle, UserRateThrottle

    throttles = SubscriptionViewSet().get_throttles()

    assert [type(t) for t in throttles] == [AnonRateThrottle, UserRateThrottle]


def test_the_schema_documents_the_subscriptions_without_warnings(api_client):
    GENERATOR_STATS.reset()
    call_command("spectacular", "--fail-on-warn", stdout=io.StringIO(), stderr=io.StringIO())

    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    assert set(schema["paths"]["/api/v1/subscriptions/"]) == {"get", "post"}
    assert set(schema["paths"]["/api/v1/subscriptions/{id}/"]) == {"get", "put", "patch", "delete"}
    assert "/api/v1/subscriptions/{id}/preview/" in schema["paths"]
    assert schema["components"]["schemas"]["SubscriptionKindEnum"]["enum"] == ["demands", "listings", "both"]


# --- admin -----------------------------------------------------------------------------------------------------


def test_staff_see_pause_and_resume_subscriptions_but_do_not_edit_them(client_for, staff_user, follower):
    active, paused = subscribe(follower, name="甲"), subscribe(follower, name="乙")
    services.subscription_pause(subscription=paused)
    client = client_for(staff_user)
    changelist = reverse("admin:brokers_subscription_changelist")
    change = reverse("admin:brokers_subscription_change", args=[active.pk])

    assert client.get(changelist).status_code == 200
    assert client.get(change).status_code == 200  # a read-only view
    assert client.post(change, {"keywords": "改", "user": follower.pk}).status_code == 403
    assert client.get(reverse("admin:brokers_subscription_add")).status_code == 403
    client.post(changelist, {"action": "pause", "_selected_action": [active.pk, paused.pk]})
    client.post(changelist, {"action": "resume", "_selected_action": [paused.pk]})

    assert snapshot(active) == {
        "name": "甲",
        "kind": "both",
        "field_codes": [],
        "region_codes": [],
        "keywords": "注塑",
        "is_active": False,
    }
    assert snapshot(paused)["is_active"] is True
    assert client_for(follower).get(changelist).status_code == 302  # not staff: the admin login
