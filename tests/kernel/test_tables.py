"""Every service's declarative Base comes from one kernel mechanism (shared.db.TableConventions):
its own MetaData with the kernel's naming convention, and timezone-aware datetimes."""

from __future__ import annotations

import ast
import importlib
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING_CONVENTION, KernelBase, TableConventions

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("accounts", "analytics", "catalog", "notifications", "orders", "pricing")


def test_each_base_has_its_own_metadata_with_the_naming_convention():
    class One(TableConventions, DeclarativeBase):
        pass

    class Two(TableConventions, DeclarativeBase):
        pass

    class Thing(One):
        __tablename__ = "things"
        code: Mapped[str] = mapped_column(String(10), primary_key=True)
        seen_at: Mapped[datetime]

    assert One.metadata is not Two.metadata is not KernelBase.metadata
    assert One.metadata.naming_convention == NAMING_CONVENTION
    assert "things" in One.metadata.tables and "things" not in Two.metadata.tables
    seen_at = Thing.__table__.c.seen_at.type
    assert isinstance(seen_at, DateTime) and seen_at.timezone
    assert Thing.__table__.primary_key.name == "pk_things"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_base_is_the_kernel_one(service):
    base = importlib.import_module(f"services.{service}.store.models").Base
    assert issubclass(base, TableConventions)
    assert base.metadata.naming_convention == NAMING_CONVENTION
    assert base.metadata is not KernelBase.metadata


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_writes_the_base_body_again(service):
    """The body (metadata, type map) lives in the kernel, not once per service."""
    tree = ast.parse((ROOT / "services" / service / "store" / "models.py").read_text())
    bases = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Base"]
    assert len(bases) == 1
    assigned = {
        t.id
        for node in bases[0].body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    }
    assert not assigned & {"metadata", "type_annotation_map", "registry"}
