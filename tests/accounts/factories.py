"""Small helpers to set up accounts data for a test, through the API where it matters."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from services.accounts.domain.secrets import hash_password
from services.accounts.store.models import Company, Membership, User
from shared.auth import Role
from shared.contracts.accounts import INVITATION_TOKEN
from shared.settings import DEV_INTERNAL_SECRET
from shared.testing.fixtures import as_role, client
from shared.tokens import derived_token

ADMIN = as_role(Role.ADMIN)


async def add_company(app: FastAPI, **fields: Any) -> dict[str, Any]:
    body = {"legal_name": f"Company {uuid.uuid4().hex[:6]}", **fields}
    async with client(app, ADMIN) as http:
        response = await http.post("/companies", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def add_user(
    app: FastAPI,
    email: str,
    *,
    password: str = "secret-password",
    staff_role: str | None = None,
    companies: dict[uuid.UUID, str] | None = None,
) -> uuid.UUID:
    """A user with memberships {company_id: role}, written directly (invitations are tested apart)."""
    async with app.state.sessionmaker() as session, session.begin():
        user = User(
            email=email,
            name=email.split("@")[0],
            password_hash=hash_password(password),
            staff_role=staff_role,
        )
        session.add(user)
        await session.flush()
        for company_id, role in (companies or {}).items():
            session.add(Membership(user_id=user.id, company_id=company_id, role=role))
        return user.id


async def add_manager(
    app: FastAPI, email: str = "manager@seller.example"
) -> tuple[uuid.UUID, dict[str, str]]:
    """A sales manager (a real user: companies name it as theirs) and its headers."""
    manager = await add_user(app, email, staff_role="sales_manager")
    return manager, as_role(Role.SALES_MANAGER, subject=manager)


def staff_body(email: str, staff_role: str, password: str = "long-password") -> dict[str, str]:
    return {
        "email": email,
        "name": email.split("@")[0],
        "password": password,
        "staff_role": staff_role,
    }


async def add_staff(
    app: FastAPI, email: str, staff_role: str, password: str = "long-password"
) -> dict[str, Any]:
    """A staff user made through the API, as an admin makes one."""
    async with client(app, ADMIN) as http:
        made = await http.post("/users", json=staff_body(email, staff_role, password))
    assert made.status_code == 201, made.text
    return made.json()


async def invite(
    app: FastAPI, headers: dict[str, str], company_id: uuid.UUID | str, email: str
) -> dict[str, Any]:
    async with client(app, headers) as http:
        response = await http.post(f"/companies/{company_id}/invitations", json={"email": email})
    assert response.status_code == 201, response.text
    return response.json()


async def accept(
    app: FastAPI, invitation: dict[str, Any], name: str, password: str = "long-password"
) -> httpx.Response:
    """Accepting with the token the invitation's e-mail carries, as the invitee does."""
    async with client(app) as anonymous:
        return await anonymous.post(
            f"/invitations/{emailed_token(invitation)}/accept",
            json={"name": name, "password": password},
        )


def emailed_token(invitation: dict[str, Any]) -> str:
    """The token the invitation's e-mail carries (outside development the answer has none):
    notifications derives it from the invitation's id as accounts does."""
    return derived_token(DEV_INTERNAL_SECRET, INVITATION_TOKEN, invitation["id"])


async def login(app: FastAPI, email: str, password: str = "secret-password") -> httpx.Response:
    async with client(app) as http:
        return await http.post("/auth/login", json={"email": email, "password": password})


def member_headers(user_id: uuid.UUID, company_id: uuid.UUID, *roles: Role) -> dict[str, str]:
    return as_role(*(roles or (Role.BUYER,)), subject=user_id, company_id=company_id)


async def company_row(app: FastAPI, company_id: uuid.UUID | str) -> Company | None:
    async with app.state.sessionmaker() as session:
        return await session.get(Company, uuid.UUID(str(company_id)))
