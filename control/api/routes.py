"""The control routes of the interface contract, each a thin call into ControlService."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request

from control.api import answers
from control.api.auth import read_access, require_token
from control.api.errors import ApiError
from control.api.models import ConfigPatch, Name, ReloadBody, RiskPatch
from control.api.responses import ReloadsReport, StateReport
from control.commands import Refused
from control.reports import CommandReport, ConfigReport, RiskReport, StatusReport
from control.service import ControlResult, ControlService

Actor = Annotated[str, Depends(require_token)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No bearer token (or a malformed Authorization header)"},
    403: {"description": "Wrong bearer token"},
    413: {"description": "Request body over the size limit"},
    422: {"description": "Invalid body, or a command the control plane refused"},
}
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Private reads: no bearer token"},
    403: {"description": "Private reads: wrong bearer token"},
}

router = APIRouter(prefix="/api", tags=["control"])
reads = APIRouter(prefix="/api", tags=["read"], dependencies=[Depends(read_access)])


def service_of(request: Request) -> ControlService:
    service: ControlService = request.app.state.service
    return service


Service = Annotated[ControlService, Depends(service_of)]


def answer(result: ControlResult, service: ControlService) -> CommandReport:
    """The service's result, plus a note when it could only write control.json."""
    report = result.report()
    if result.plane == "file":
        note = answers.file_note(service, "wrote control.json alone; runners obey it")
        report = report.model_copy(update={"note": note})
    return report


@router.post("/pause", responses=ERRORS, summary="Stop new entries")
def pause(service: Service, actor: Actor) -> CommandReport:
    return answer(service.apply("pause", {}, actor=actor), service)


@router.post("/resume", responses=ERRORS, summary="Allow entries again (clears a kill)")
def resume(service: Service, actor: Actor) -> CommandReport:
    return answer(service.apply("resume", {}, actor=actor), service)


@router.post("/reload", responses=ERRORS, summary="Ask runners to reload strategy code")
def reload(
    service: Service, actor: Actor, body: Annotated[ReloadBody | None, Body()] = None
) -> CommandReport:
    args = {"module": body.module} if body is not None and body.module else {}
    return answer(service.apply("reload", args, actor=actor), service)


@router.post("/flatten", responses=ERRORS, summary="Cancel pending orders, close positions")
def flatten(service: Service, actor: Actor) -> CommandReport:
    return answer(service.apply("flatten", {}, actor=actor), service)


@router.post("/kill", responses=ERRORS, summary="Flatten, then no entries until resume")
def kill(service: Service, actor: Actor) -> CommandReport:
    return answer(service.apply("kill", {}, actor=actor), service)


@router.patch("/config", responses=ERRORS, summary="Override strategy PARAMS")
def config_set(service: Service, actor: Actor, body: ConfigPatch) -> CommandReport:
    result = service.apply("config_set", {"values": body.as_values()}, actor=actor)
    return answer(result, service)


@reads.get("/config", responses=READ_ERRORS, summary="PARAMS defaults, overrides, effective")
def config_get(service: Service, strategy: Name | None = None) -> ConfigReport:
    try:
        report = service.config_get(strategy)
    except Refused as exc:
        raise ApiError(404, str(exc)) from exc
    if report.plane == "file":
        note = answers.file_note(service, "overrides from control.json")
        report = report.model_copy(update={"note": note})
    return report


@router.patch("/risk", responses=ERRORS, summary="Set risk limits (bot or strategy)")
def risk_set(service: Service, actor: Actor, body: RiskPatch) -> CommandReport:
    return answer(service.apply("risk_set", {"values": body.as_values()}, actor=actor), service)


@reads.get("/risk", responses=READ_ERRORS, summary="Risk limits in force, refusals, day PnL")
def risk_get(service: Service) -> RiskReport:
    report = service.risk_get()
    if report.plane == "file":
        note = answers.file_note(service, "limits from control.json")
        report = report.model_copy(update={"note": note})
    return report


@reads.get("/status", responses=READ_ERRORS, summary="Runners, code, control, reloads")
def status(service: Service) -> StatusReport:
    return answers.status_report(service)


@reads.get("/reloads", responses=READ_ERRORS, summary="The reload manifest, by generation")
def reloads(
    service: Service, limit: Annotated[int, Query(ge=1, le=500)] = answers.RELOADS_LIMIT
) -> ReloadsReport:
    return answers.reloads_report(service, limit)


@reads.get("/state", responses=READ_ERRORS, summary="Windows, positions, orders, PnL")
def state(service: Service) -> StateReport:
    return answers.state_report(service)
