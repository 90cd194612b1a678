"""Pagination for long lists (tens of thousands of demands or listings)."""

from django.core.paginator import Page, Paginator


class IdsFirstPaginator(Paginator):
    """Fetches a page's primary keys first (``OFFSET`` over an index, no row data), then only those rows.

    A deep page of a plain ``OFFSET`` query reads and discards every earlier row with all its columns and joins;
    reading just the ordered ids walks the index (see docs/performance.md, demand list).
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.object_list.filter(pk__in=ids)}
        return Page([rows[pk] for pk in ids if pk in rows], number, self)
