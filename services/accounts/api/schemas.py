"""Request and response bodies of the accounts API (XCreate, XUpdate, XRead)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from services.accounts.domain.card import CardField
from shared.apiconventions import examples
from shared.attachments import AttachedFileRead
from shared.fields import (
    BusinessDate,
    CurrencyCode,
    MinorUnits,
    Reference,
    code,
    line,
    multiline,
)

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Warehouse = code(64)
Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]
CompanyStatus = Literal["active", "blocked"]
MemberRole = Literal["buyer", "company_admin"]
WAREHOUSE = (
    "The warehouse (catalog's code) the client's orders take stock from first; the rest "
    "comes from the others (most available first). None: most available first"
)
StaffRole = Literal["admin", "head_of_sales", "sales_manager", "pricing_manager"]
GoalStatus = Literal["open", "in_progress", "achieved", "dropped"]
KeyRole = Literal["integrator", "partner"]


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Companies -----------------------------------------------------------------------------------


# Alpha LLC, as its sales manager opens it.
ALPHA = {
    "legal_name": "Alpha LLC",
    "external_id": "C-1001",
    "tax_id": "DE123456789",
    "industry": "construction",
    "client_type": "installer",
    "client_group": "dealers",
    "sales_manager_id": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
    "currency": "EUR",
    "credit_limit_minor": 5000000,
    "payment_terms_days": 30,
    "preferred_warehouse": "MAIN",
}


@examples(ALPHA)
class CompanyCreate(BaseModel):
    legal_name: line(300, min_length=1)
    external_id: Reference | None = Field(None, description="The client's id in ERP")
    tax_id: code(32) | None = None
    industry: line(100) | None = None
    client_type: Code | None = None
    client_group: Code | None = Field(None, description="Code of a client group")
    sales_manager_id: uuid.UUID | None = None
    currency: CurrencyCode = "EUR"
    credit_limit_minor: MinorUnits | None = Field(None, description="Minor units; null = none set")
    payment_terms_days: int = Field(0, ge=0, le=365)
    status: CompanyStatus = "active"
    partners: list[Code] = Field(
        default_factory=list,
        max_length=50,
        description="Marketplace partners (codes) the client is registered with: each may "
        "pull the client's own resolved prices from pricing",
    )
    preferred_warehouse: Warehouse | None = Field(None, description=WAREHOUSE)


class CompanyUpdate(BaseModel):
    """Only the fields sent change; send If-Match with the ETag you read."""

    legal_name: line(300, min_length=1) | None = None
    external_id: Reference | None = None
    tax_id: code(32) | None = None
    industry: line(100) | None = None
    client_type: Code | None = None
    client_group: Code | None = None
    sales_manager_id: uuid.UUID | None = None
    currency: CurrencyCode | None = None
    credit_limit_minor: MinorUnits | None = None
    payment_terms_days: int | None = Field(None, ge=0, le=365)
    status: CompanyStatus | None = None
    partners: list[Code] | None = Field(None, max_length=50, description="Replaces the set")
    preferred_warehouse: Warehouse | None = Field(None, description=WAREHOUSE)


@examples(
    {
        "id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
        **ALPHA,
        "status": "active",
        "partners": [],
        "version": 1,
        "created_at": "2026-11-23T09:30:00Z",
        "updated_at": "2026-11-23T09:30:00Z",
    }
)
class CompanyRead(Read):
    id: uuid.UUID
    external_id: str | None
    legal_name: str
    tax_id: str | None
    industry: str | None
    client_type: str | None
    client_group: str | None = None
    sales_manager_id: uuid.UUID | None
    currency: str
    credit_limit_minor: int | None
    payment_terms_days: int
    status: CompanyStatus
    partners: list[str] = Field(default_factory=list)
    preferred_warehouse: str | None = Field(None, description=WAREHOUSE)
    version: int
    created_at: datetime
    updated_at: datetime


@examples(
    {
        "company_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
        "client_type": "installer",
        "fields": [
            {
                "key": "crews",
                "label": "Installation crews",
                "type": "integer",
                "required": False,
                "choices": None,
                "unit": None,
            },
            {
                "key": "main_supplier",
                "label": "Main supplier today",
                "type": "text",
                "required": False,
                "choices": None,
                "unit": None,
            },
            {
                "key": "segment",
                "label": "Segment",
                "type": "choice",
                "required": True,
                "choices": ["residential", "commercial"],
                "unit": None,
            },
        ],
        "values": {"crews": 12, "main_supplier": "Baumarkt Nord", "segment": "commercial"},
        "version": 2,
    }
)
class CardRead(BaseModel):
    company_id: uuid.UUID
    client_type: str | None
    fields: list[CardField] = Field(description="The fields this client type's card has")
    values: dict[str, Any]
    version: int


@examples({"values": {"crews": 12, "main_supplier": "Baumarkt Nord", "segment": "commercial"}})
class CardUpdate(BaseModel):
    values: dict[str, Any] = Field(description="The whole card: fields left out are cleared")


class ClientTypeWrite(BaseModel):
    name: line(200, min_length=1)
    card_fields: list[CardField] = Field(default_factory=list, max_length=200)


class ClientTypeRead(Read):
    code: str
    name: str
    card_fields: list[CardField]


class ClientGroupCreate(BaseModel):
    code: Code
    name: line(200, min_length=1)


class ClientGroupRead(Read):
    id: uuid.UUID
    code: str
    name: str


class AddressCreate(BaseModel):
    kind: Literal["legal", "billing", "shipping"]
    label: line(200) | None = None
    line1: line(300, min_length=1)
    line2: line(300) | None = None
    city: line(100, min_length=1)
    postal_code: code(20) | None = None
    region: line(100) | None = Field(
        None, description="State, province or oblast; delivery tariffs may be set by region"
    )
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class AddressRead(Read, AddressCreate):
    id: uuid.UUID
    company_id: uuid.UUID


class GoalWrite(BaseModel):
    title: line(300, min_length=1)
    status: GoalStatus = "open"
    due_date: BusinessDate | None = None
    note: multiline(4000) | None = None


class GoalRead(Read):
    id: uuid.UUID
    company_id: uuid.UUID
    year: int
    code: str
    title: str
    status: GoalStatus
    due_date: date | None
    note: str | None
    updated_at: datetime


class CreditRead(BaseModel):
    company_id: uuid.UUID
    currency: str
    credit_limit_minor: int | None
    payment_terms_days: int
    balance_minor: int = Field(description="What the company owes now (ERP)")
    overdue_minor: int
    oldest_overdue_date: date | None
    purchase_limit_minor: int | None = Field(description="ERP's purchase limit, if any")
    available_credit_minor: int | None = Field(description="null = no limit applies")
    as_of: datetime | None = Field(description="When ERP last reported; null = never")


class StatementRead(AttachedFileRead):
    id: uuid.UUID
    company_id: uuid.UUID
    period_from: date
    period_to: date
    currency: str
    closing_balance_minor: int | None


# People ------------------------------------------------------------------------------------


@examples({"email": "buyer@alpha.example", "password": "s3cret!"})
class Login(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=200)


class SwitchCompany(BaseModel):
    company_id: uuid.UUID


class MembershipRead(BaseModel):
    company_id: uuid.UUID
    legal_name: str
    role: MemberRole


@examples(
    {
        "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
        "token_type": "bearer",
        "expires_in": 3600,
        "company_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
        "memberships": [
            {
                "company_id": "7b3f6a52-9a4e-4f1e-8a31-0c2d9b6e5f10",
                "legal_name": "Alpha LLC",
                "role": "buyer",
            }
        ],
    }
)
class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    company_id: uuid.UUID | None = Field(description="The legal entity this token acts for")
    memberships: list[MembershipRead]


class MeRead(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    staff_role: StaffRole | None
    company_id: uuid.UUID | None
    memberships: list[MembershipRead]


class MemberRead(BaseModel):
    user_id: uuid.UUID
    email: str
    name: str
    role: MemberRole
    joined_at: datetime


class InvitationCreate(BaseModel):
    email: EmailStr
    role: MemberRole = "buyer"


class InvitationRead(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID
    email: str
    role: MemberRole
    expires_at: datetime
    token: str | None = Field(
        None,
        description="Only in development (ACCOUNTS_ENVIRONMENT=development): the token the "
        "e-mail's accept link carries. Elsewhere null: the invitee gets it by e-mail alone",
    )


class InvitationAccept(BaseModel):
    name: line(200, min_length=1)
    password: Password


class StaffCreate(BaseModel):
    email: EmailStr
    name: line(200, min_length=1)
    password: Password
    staff_role: StaffRole


class UserRead(Read):
    id: uuid.UUID
    email: str
    name: str
    staff_role: StaffRole | None
    active: bool
    created_at: datetime


@examples({"name": "ERP (SAP, production)", "role": "integrator"})
class ApiKeyCreate(BaseModel):
    name: line(200, min_length=1)
    role: KeyRole
    partner_code: Code | None = Field(None, description="Required for partner keys")


class ApiKeyRead(Read):
    id: uuid.UUID
    prefix: str
    name: str
    role: KeyRole
    partner_code: str | None
    created_at: datetime
    revoked_at: datetime | None


@examples(
    {
        "id": "8d9e0f1a-2b3c-4d4e-9f5a-6b7c8d9e0f1a",
        "prefix": "eb775a5fd088",
        "name": "ERP (SAP, production)",
        "role": "integrator",
        "partner_code": None,
        "created_at": "2026-11-23T09:00:00Z",
        "revoked_at": None,
        "key": "b2b_eb775a5fd088_9G4wSviZOhoNPgCjFHfAs-RKA30nLQW7eHdulnaLhj8",
    }
)
class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The full key; shown this once, never again")


class ApiKeyVerify(BaseModel):
    key: code(200)
