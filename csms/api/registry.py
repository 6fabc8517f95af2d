"""Chargers and id tags: `/api/chargers...`, `/api/id-tags...`."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from ..services import validation
from ..services.chargers import REGISTRATION_STATES
from . import views
from .deps import Backend, Csms
from .errors import ApiError

router = APIRouter(prefix="/api", tags=["registry"])

Registration = Literal["Accepted", "Pending", "Rejected"]
TagStatus = Literal["Accepted", "Blocked", "Expired", "Invalid"]
TokenType = Literal["Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress"]
OcppVersion = Literal["1.6", "2.0.1", "any"]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]
AllowWeakPassword = Annotated[
    bool,
    Query(
        description=f"store a password shorter than {validation.MIN_PASSWORD_BYTES} bytes, the"
        " OCPP 1.6 security whitepaper's minimum for Basic Auth (labs only)"
    ),
]

assert set(REGISTRATION_STATES) == {"Accepted", "Pending", "Rejected"}
assert {*validation.OCPP_VERSIONS, validation.ANY_VERSION} == {"1.6", "2.0.1", "any"}
assert set(validation.TAG_STATUSES) == {"Accepted", "Blocked", "Expired", "Invalid"}
assert get_args(TokenType) == validation.TOKEN_TYPES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChargerFields(_Strict):
    name: str | None = None
    model: str | None = None
    vendor: str | None = None
    password: str | None = Field(default=None, description="Basic Auth password; null: none")
    enabled: bool = True
    registration: Registration = "Accepted"
    securityProfile: int | None = Field(
        default=None, ge=0, le=3, description="1: ws (+ Basic Auth), 2: TLS + Basic Auth, 3: mTLS"
    )
    registeredOcppVersion: OcppVersion = Field(
        default="any",
        description="the OCPP version it must speak (given that subprotocol when it offers"
        " several; refused when it does not offer it); any: whichever it offers, the newest",
    )


class NewCharger(ChargerFields):
    chargerId: str = Field(
        description="the identity it connects with: 1 to 48 characters, no : / \\ or control"
        " characters (the handshake's rule, checked by csms.services.validation)"
    )


class ChargerPatch(_Strict):
    name: str | None = None
    model: str | None = None
    vendor: str | None = None
    password: str | None = None
    enabled: bool | None = None
    registration: Registration | None = None
    securityProfile: int | None = Field(default=None, ge=0, le=3)
    registeredOcppVersion: OcppVersion | None = None


class BulkChargers(_Strict):
    chargers: list[NewCharger]


class TagFields(_Strict):
    status: TagStatus = "Accepted"
    expiryDate: str | None = None
    parentIdTag: str | None = Field(default=None, description="an id tag of the registry")
    tokenType: TokenType | None = Field(
        default=None, description="its 2.0.1 idToken type; null: any type"
    )


class NewTag(TagFields):
    idTag: str = Field(description="1 to 20 characters (OCPP's IdToken)")


class TagPatch(_Strict):
    status: TagStatus | None = None
    expiryDate: str | None = None
    parentIdTag: str | None = None
    tokenType: TokenType | None = None


# -- chargers ------------------------------------------------------------------------------


async def charger_detail(csms: Backend, charger_id: str) -> dict[str, Any]:
    services = csms.services
    chargers = services.chargers
    row = await chargers.get(charger_id)
    if row is None:
        raise ApiError(404, "UnknownCharger", f"Unknown charger {charger_id}", chargerId=charger_id)
    live = csms.registry.get(charger_id)
    where = (await _locations(csms, [charger_id])).get(charger_id)
    return {
        **views.charger(row, live, where),
        "connection": views.connection(live),
        "connectors": [views.connector(c) for c in await chargers.connectors(charger_id)],
        "configuration": [views.configuration(c) for c in await chargers.configuration(charger_id)],
        "reservations": [
            views.reservation(r) for r in await services.reservations.find(charger_id)
        ],
        "chargingProfiles": [
            views.charging_profile(p) for p in await services.charging_profiles.find(charger_id)
        ],
        "events": [views.event(e) for e in await chargers.events(charger_id, last=50)],
    }


async def _locations(csms: Backend, charger_ids: list[str]) -> dict[str, dict[str, Any]]:
    """In a cluster, where each charger is connected (`views.cluster_location`); else {}."""
    if csms.cluster is None:
        return {}
    found = await csms.cluster.locations(charger_ids)
    return {charger_id: views.cluster_location(where) for charger_id, where in found.items()}


def _check_charger(csms: Backend, body: NewCharger, allow_weak_password: bool) -> None:
    validation.charger_id(body.chargerId, csms.config.identity_max_length)
    validation.password(body.password, allow_weak=allow_weak_password)


async def _register(csms: Backend, body: NewCharger) -> bool:
    """`body` checked with `_check_charger` first."""
    return await csms.services.chargers.register(
        body.chargerId,
        password=body.password or None,
        name=body.name,
        model=body.model,
        vendor=body.vendor,
        enabled=body.enabled,
        registration=body.registration,
        security_profile=body.securityProfile,
        ocpp_version=body.registeredOcppVersion,
    )


async def _update(
    csms: Backend, charger_id: str, fields: dict[str, Any], allow_weak_password: bool
) -> dict[str, Any]:
    chargers = csms.services.chargers
    if await chargers.get(charger_id) is None:
        raise ApiError(404, "UnknownCharger", f"Unknown charger {charger_id}", chargerId=charger_id)
    if "password" in fields:
        fields["password"] = validation.password(fields["password"], allow_weak=allow_weak_password)
        await chargers.set_password(charger_id, fields.pop("password"))
    if "enabled" in fields:
        fields["enabled"] = int(fields["enabled"])
    if "securityProfile" in fields:
        fields["security_profile"] = fields.pop("securityProfile")
    if "registeredOcppVersion" in fields:
        fields["ocpp_version"] = validation.ocpp_version(fields.pop("registeredOcppVersion"))
    await chargers.update(charger_id, **fields)
    await _recheck(csms, charger_id)
    return await charger_detail(csms, charger_id)


async def _recheck(csms: Backend, charger_id: str) -> None:
    """Close the charger's connection if its entry no longer admits it, on whichever node
    holds it."""
    await csms.registry.recheck(charger_id, await csms.services.chargers.get(charger_id))
    if csms.cluster is not None:
        await csms.cluster.changed(charger_id)


@router.get("/chargers", summary="List chargers")
async def list_chargers(
    csms: Csms,
    status: Literal["online", "offline"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    online = None if status is None else status == "online"
    chargers = csms.services.chargers
    rows = await chargers.find(online=online, limit=limit, offset=offset)
    connectors = await chargers.connectors_of([row["id"] for row in rows])
    where = await _locations(csms, [row["id"] for row in rows])
    items = [
        {
            **views.charger(row, csms.registry.get(row["id"]), where.get(row["id"])),
            "connectors": [views.connector(c) for c in connectors[row["id"]]],
        }
        for row in rows
    ]
    total = await chargers.count(online=online)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/chargers", status_code=201, summary="Register a charger")
async def create_charger(
    csms: Csms, body: NewCharger, allowWeakPassword: AllowWeakPassword = False
) -> dict[str, Any]:
    _check_charger(csms, body, allowWeakPassword)
    if not await _register(csms, body):
        raise ApiError(
            409, "ChargerExists", f"Charger {body.chargerId} exists", chargerId=body.chargerId
        )
    return await charger_detail(csms, body.chargerId)


@router.post("/chargers/bulk", summary="Register many chargers; existing ones are left alone")
async def create_chargers(
    csms: Csms, body: BulkChargers, allowWeakPassword: AllowWeakPassword = False
) -> dict[str, list[str]]:
    for charger in body.chargers:  # all checked before any is registered
        _check_charger(csms, charger, allowWeakPassword)
    created: list[str] = []
    existing: list[str] = []
    for charger in body.chargers:
        (created if await _register(csms, charger) else existing).append(charger.chargerId)
    return {"created": created, "existing": existing}


@router.get("/chargers/{charger_id}", summary="A charger with connectors and live state")
async def get_charger(csms: Csms, charger_id: str) -> dict[str, Any]:
    return await charger_detail(csms, charger_id)


@router.put("/chargers/{charger_id}", summary="Replace a charger's registry fields")
async def replace_charger(
    csms: Csms,
    charger_id: str,
    body: ChargerFields,
    allowWeakPassword: AllowWeakPassword = False,
) -> dict[str, Any]:
    return await _update(csms, charger_id, body.model_dump(), allowWeakPassword)


@router.patch("/chargers/{charger_id}", summary="Change some of a charger's registry fields")
async def patch_charger(
    csms: Csms,
    charger_id: str,
    body: ChargerPatch,
    allowWeakPassword: AllowWeakPassword = False,
) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    for name in ("enabled", "registration"):
        if name in fields and fields[name] is None:
            raise ApiError(422, "InvalidField", f"{name} cannot be null", field=name)
    return await _update(csms, charger_id, fields, allowWeakPassword)


@router.delete("/chargers/{charger_id}", status_code=204, summary="Remove a charger")
async def delete_charger(csms: Csms, charger_id: str) -> Response:
    if not await csms.services.chargers.delete(charger_id):
        raise ApiError(404, "UnknownCharger", f"Unknown charger {charger_id}", chargerId=charger_id)
    await _recheck(csms, charger_id)
    return Response(status_code=204)


# -- id tags -------------------------------------------------------------------------------


async def _tag_fields(
    csms: Backend, tag: str, body: TagFields | TagPatch, *, unset: bool
) -> dict[str, Any]:
    """The store's fields of `body`, checked as the CLI checks them."""
    names = {
        "status": "status",
        "expiryDate": "expiry_date",
        "parentIdTag": "parent_id_tag",
        "tokenType": "token_type",
    }
    given = body.model_dump(exclude_unset=unset)
    if given.get("status", "") is None:
        raise ApiError(422, "InvalidField", "status cannot be null", field="status")
    fields = {names[key]: value for key, value in given.items()}
    return await validation.id_tag_fields(csms.services.tags, tag, fields)


async def _tag(csms: Backend, tag: str) -> dict[str, Any]:
    row = await csms.services.tags.get(tag)
    if row is None:
        raise ApiError(404, "UnknownIdTag", f"Unknown id tag {tag}", idTag=tag)
    return views.id_tag(row)


@router.get("/id-tags", summary="List id tags")
async def list_tags(csms: Csms, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    rows = await csms.services.tags.find(limit=limit, offset=offset)
    return {"items": [views.id_tag(r) for r in rows], "limit": limit, "offset": offset}


@router.post("/id-tags", status_code=201, summary="Register an id tag")
async def create_tag(csms: Csms, body: NewTag) -> dict[str, Any]:
    tags = csms.services.tags
    if await tags.get(body.idTag) is not None:
        raise ApiError(409, "IdTagExists", f"Id tag {body.idTag} exists", idTag=body.idTag)
    given = TagFields(**body.model_dump(exclude={"idTag"}))
    await tags.upsert(body.idTag, **await _tag_fields(csms, body.idTag, given, unset=False))
    return await _tag(csms, body.idTag)


@router.get("/id-tags/{tag}", summary="An id tag")
async def get_tag(csms: Csms, tag: str) -> dict[str, Any]:
    return await _tag(csms, tag)


@router.put("/id-tags/{tag}", summary="Create or replace an id tag")
async def put_tag(csms: Csms, tag: str, body: TagFields, response: Response) -> dict[str, Any]:
    tags = csms.services.tags
    fields = await _tag_fields(csms, tag, body, unset=False)
    if await tags.get(tag) is None:
        response.status_code = 201
    await tags.upsert(tag, **fields)
    return await _tag(csms, tag)


@router.patch("/id-tags/{tag}", summary="Change some fields of an id tag")
async def patch_tag(csms: Csms, tag: str, body: TagPatch) -> dict[str, Any]:
    await _tag(csms, tag)
    await csms.services.tags.upsert(tag, **await _tag_fields(csms, tag, body, unset=True))
    return await _tag(csms, tag)


@router.delete("/id-tags/{tag}", status_code=204, summary="Remove an id tag")
async def delete_tag(csms: Csms, tag: str) -> Response:
    if not await csms.services.tags.delete(tag):
        raise ApiError(404, "UnknownIdTag", f"Unknown id tag {tag}", idTag=tag)
    return Response(status_code=204)
