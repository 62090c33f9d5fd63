"""Segment's data plane on the stand-in: tracking intake, mapping triggers, webhook delivery."""

from fastapi import APIRouter

from sandbox.tracking import controls, delivery, intake
from sandbox.tracking.runtime import lifespan

SCHEMA = intake.SCHEMA + delivery.SCHEMA

router = APIRouter(lifespan=lifespan)
router.include_router(intake.router)
router.include_router(controls.router)

__all__ = ["SCHEMA", "router"]
