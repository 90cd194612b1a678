from rest_framework import pagination

from marketplace.pagination import IdsFirstPaginator


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class LongListPagination(PageNumberPagination):
    """For lists of tens of thousands of rows: the ids of a page first, then its rows."""

    django_paginator_class = IdsFirstPaginator
