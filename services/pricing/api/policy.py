"""Commercial policy administration (built by the policy helper)."""

from fastapi import APIRouter

router = APIRouter()
