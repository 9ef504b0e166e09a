"""Tables of the orders service (its own database; no other service reads them)."""

from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import DeclarativeBase

from shared.db import make_metadata


class Base(DeclarativeBase):
    metadata = make_metadata()
    type_annotation_map = {datetime: DateTime(timezone=True)}
