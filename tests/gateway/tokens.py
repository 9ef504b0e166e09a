import uuid

from shared.auth import Role
from shared.settings import DEV_JWT_SECRET
from shared.tokens import issue_access_token


def bearer(*roles: Role, user_id: uuid.UUID | None = None, **kwargs) -> dict[str, str]:
    token = issue_access_token(
        kwargs.pop("secret", DEV_JWT_SECRET),
        user_id=user_id or uuid.uuid4(),
        roles=roles,
        company_id=kwargs.pop("company_id", None),
        companies=kwargs.pop("companies", []),
        **kwargs,
    )
    return {"Authorization": f"Bearer {token}"}
