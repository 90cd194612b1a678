"""The registration summary on either engine: the triggers' copy of the report's groupings is the report's, the
summary exists on PostgreSQL only and the report agrees with the reference either way, and the command's --verify
options. The summary itself
is tested on PostgreSQL (tests/integration/test_registration_summary_postgres.py)."""

import importlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from contracts import statistics
from contracts.models import RegistrationSummary, SummaryDimension
from tests.contracts.test_annual_report import insert

summary_migration = importlib.import_module("contracts.migrations.0004_registration_summary")


def test_the_triggers_group_as_the_report_does():
    assert summary_migration.DIMENSIONS == statistics.DIMENSIONS
    assert summary_migration.FLOW_COLUMNS == statistics.FLOW_COLUMNS
    assert SummaryDimension.values == ["totals", *statistics.DIMENSIONS, "flows"]
    assert summary_migration.LOCK_KEY == statistics.SUMMARY_LOCK_KEY


@pytest.mark.django_db
def test_only_postgresql_keeps_a_summary_and_either_way_the_report_is_the_reference():
    insert(2005, "development", 3, 300)

    # The triggers exist on PostgreSQL only (this file also runs there in CI): SQLite groups the registrations.
    expected = {"postgresql": {("totals", 2005, "", 3)}, "sqlite": set()}[connection.vendor]
    summary = RegistrationSummary.objects.filter(dimension=SummaryDimension.TOTALS)
    assert set(summary.values_list("dimension", "year", "code", "count")) == expected
    assert statistics.aggregate(2005) == statistics.aggregate_reference(2005)
    assert statistics.aggregate(2005)["totals", 2005, None].count == 3
    assert statistics.summary_check(2005, repair=True) == []


@pytest.mark.django_db
def test_the_command_verifies_without_printing_the_report():
    insert(2005, "development", 3, 300)
    out = io.StringIO()

    call_command("annual_report", "2005", "--verify", "--language", "en", stdout=out)

    assert out.getvalue() == "The summary of 2005 and 2004 agrees with the registrations.\n"
    with translation.override("zh-hans"):
        out = io.StringIO()
        call_command("annual_report", "2005", "--verify", stdout=out)
    assert out.getvalue() == "2005年和2004年的汇总与登记记录一致。\n"


@pytest.mark.django_db
def test_repair_without_verify_is_refused():
    with pytest.raises(CommandError, match="^--repair needs --verify$"):
        call_command("annual_report", "2005", "--repair")
