"""Attribute definitions (the ERP attributes feed) and the check of the values products carry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.domain.attributes import AttributeType
from services.catalog.store.models import AttributeDefinition
from services.catalog.store.staging import staged_check
from shared.clock import utcnow

# jsonb_typeof of a value of each declared type.
JSON_TYPE_OF = (
    "CASE {type} WHEN 'number' THEN 'number' WHEN 'text' THEN 'string' "
    "WHEN 'bool' THEN 'boolean' END"
)


# A type may change only while no product holds a value of the old type.
check_definitions = staged_check(
    """
            SELECT s._row, 'type', 'products hold values of another type under this name'
            FROM {staging} s JOIN attribute_definitions d ON d.name = s.name
            WHERE d.type <> s.type
              AND EXISTS (
                  SELECT 1 FROM products p
                  WHERE (p.attributes -> s.name) IS NOT NULL
                    AND jsonb_typeof(p.attributes -> s.name) <> {json_type}
              )
            """,
    json_type=JSON_TYPE_OF.format(type="s.type"),
)


async def apply_definitions(session: AsyncSession, staging: str) -> dict[str, Any]:
    result = await session.execute(
        text(
            f"""
            INSERT INTO attribute_definitions (name, type, label, unit, updated_at)
            SELECT name, type, coalesce(label, name), unit, CAST(:now AS timestamptz) FROM {staging}
            ON CONFLICT (name) DO UPDATE
               SET type = excluded.type, label = excluded.label, unit = excluded.unit,
                   updated_at = CAST(:now AS timestamptz)
             WHERE (attribute_definitions.type, attribute_definitions.label,
                    attribute_definitions.unit)
                   IS DISTINCT FROM (excluded.type, excluded.label, excluded.unit)
            RETURNING (xmax = 0) AS created
            """
        ),
        {"now": utcnow()},
    )
    created = [r.created for r in result]
    return {"created": sum(created), "updated": len(created) - sum(created)}


# The catalog feed's `attributes` cell: a JSON object of declared names, each value of its
# declared type (null removes the attribute).
check_product_attributes = staged_check(
    """
            WITH parsed AS (
                SELECT s._row,
                       CASE WHEN pg_input_is_valid(s.attributes, 'jsonb')
                            THEN CAST(s.attributes AS jsonb) END AS doc
                FROM {staging} s WHERE s.attributes IS NOT NULL
            ),
            pairs AS (
                SELECT p._row, e.key, e.value
                FROM parsed p,
                     jsonb_each(CASE WHEN jsonb_typeof(p.doc) = 'object' THEN p.doc
                                     ELSE '{{}}'::jsonb END) e
            )
            SELECT _row, 'attributes', 'is not valid JSON' FROM parsed WHERE doc IS NULL
            UNION ALL
            SELECT _row, 'attributes', 'must be a JSON object of attribute names and values'
            FROM parsed WHERE jsonb_typeof(doc) <> 'object'
            UNION ALL
            SELECT x._row, 'attributes.' || x.key, 'is not a declared attribute'
            FROM pairs x LEFT JOIN attribute_definitions d ON d.name = x.key
            WHERE d.name IS NULL
            UNION ALL
            SELECT x._row, 'attributes.' || x.key, 'must be a ' || d.type
            FROM pairs x JOIN attribute_definitions d ON d.name = x.key
            WHERE jsonb_typeof(x.value) NOT IN ({json_type}, 'null')
            """,
    json_type=JSON_TYPE_OF.format(type="d.type"),
)


async def definitions(session: AsyncSession, names: Iterable[str] | None = None) -> list[Any]:
    stmt = select(AttributeDefinition).order_by(AttributeDefinition.name)
    if names is not None:
        stmt = stmt.where(AttributeDefinition.name.in_(list(names)))
    return list(await session.scalars(stmt))


async def types_of(session: AsyncSession, names: Iterable[str]) -> dict[str, AttributeType]:
    names = list(names)
    if not names:  # a search without attribute filters: no round trip
        return {}
    return {d.name: AttributeType(d.type) for d in await definitions(session, names)}
