"""The readiness probe a load balancer or a supervisor asks before sending readers: 200 once
the server has warmed its read path (dashboard.warm), 503 with Retry-After until then. It
reads no data and needs no sign-in: it says only whether the server is ready."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter()


@router.get("/ready", include_in_schema=False)
def ready(request: Request) -> JSONResponse:
    if request.app.state.ready.is_set():
        return JSONResponse({"ready": True}, headers={"Cache-Control": "no-store"})
    return JSONResponse({"ready": False}, status_code=503, headers={"Cache-Control": "no-store", "Retry-After": "1"})
