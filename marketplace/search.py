"""Keyword search over the lower-cased ``search_text`` column that demands and listings keep.

On PostgreSQL two GIN indexes serve ``LIKE '%term%'``: pg_trgm for terms of three characters or more, and an
index over the text's character bigrams (the SQL function ``techmarket_bigrams``, created by migrations) for
two-character terms, which yield no trigram. Chinese keywords are very often two characters (注塑, 模具, 废水),
so without the second index the commonest searches would scan the table. SQLite scans; fine at its scale.
"""

from django.db import connections
from django.db.models import BooleanField, Expression, F, QuerySet

MAX_TERMS = 8

# Shared by the demand and listing migrations (CREATE OR REPLACE: whichever runs first creates it).
BIGRAMS_FUNCTION_SQL = (
    "CREATE OR REPLACE FUNCTION techmarket_bigrams(text) RETURNS text[] "
    "IMMUTABLE STRICT PARALLEL SAFE LANGUAGE sql AS "
    "$$ SELECT coalesce(array_agg(DISTINCT substr($1, i, 2)), '{}') "
    "FROM generate_series(1, char_length($1) - 1) AS i $$"
)


def keyword_terms(value: str) -> list[str]:
    """Whitespace-separated terms, lower-cased (``search_text`` is stored lower-cased); all must match."""
    return [term for term in (value or "").lower().split() if term][:MAX_TERMS]


class HasBigram(Expression):
    """``techmarket_bigrams(column) @> ARRAY[term]``: the indexed form of ``column LIKE '%term%'`` for a
    two-character term (the expression must read exactly as the index's for the planner to use it)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, term: str):
        super().__init__()
        self.column = F(column)
        self.term = term

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        resolved = self.copy()
        resolved.column = self.column.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return resolved

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        return f"techmarket_bigrams({sql}) @> ARRAY[%s]::text[]", [*params, self.term]


def filter_keywords(queryset: QuerySet, value: str, column: str = "search_text") -> QuerySet:
    postgres = connections[queryset.db].vendor == "postgresql"
    for term in keyword_terms(value):
        if postgres and len(term) == 2:
            queryset = queryset.filter(HasBigram(column, term))
        else:
            queryset = queryset.filter(**{f"{column}__contains": term})
    return queryset
