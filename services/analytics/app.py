"""The analytics service application."""

from dataclasses import replace

from fastapi import FastAPI

from services.analytics.api import clients, feedback, plans, queues, report, sales, segments
from services.analytics.events import CONSUMERS, consumers
from services.analytics.settings import Settings
from services.analytics.workers import WORKERS
from shared.app import ServiceSpec, build_app

SPEC = ServiceSpec(
    name="analytics",
    title="Analytics API",
    description="Client facts built from events: LTV, ABC/XYZ, RFM, regularity, ladder, churn risk, share of wallet, cross-sell gaps, satisfaction.",
    tags={
        "clients": "One client's facts: LTV, ABC/XYZ, RFM, regularity, churn risk, share of wallet, cross-sell",
        "segments": "The client base by segment, and how clients moved between segments",
        "plans": "Sales plans per manager and period, against what was sold",
        "feedback": "Satisfaction and churn survey answers, as clients gave them",
        "work queues": "The manager's list of clients needing action today, each with its reason",
        "reports": "The client-base report to read in a browser or print",
        "sales": "Sales figures: funnels, repeat deals, retention, concentration, by period and manager",
    },
    routers=[
        clients.router,
        segments.router,
        plans.router,
        feedback.router,
        queues.router,
        report.router,
        sales.router,
    ],
    pages=[segments.pages, plans.pages, queues.pages, sales.pages],
    consumers=CONSUMERS,
    workers=WORKERS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return build_app(replace(SPEC, consumers=consumers(settings)), settings)
