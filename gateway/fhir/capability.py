"""The ``CapabilityStatement`` of the FHIR facade (``GET /fhir/metadata``)."""

from __future__ import annotations

import functools
from typing import Any

from gateway import __version__
from gateway.fhir.routing import FHIR_JSON, FHIR_VERSION
from schemas.fhir import validate

# SMART's extension is the one FHIR clients look for to find the token endpoint; only the
# client credentials grant is offered (no launch, no authorize endpoint).
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
RESTFUL_SECURITY = "http://terminology.hl7.org/CodeSystem/restful-security-service"
DATE = "2025-06-01"


def _interactions(*codes: str) -> list[dict[str, str]]:
    return [{"code": code} for code in codes]


def _param(name: str, kind: str, doc: str) -> dict[str, str]:
    return {"name": name, "type": kind, "documentation": doc}


_COMMON_SEARCH = [
    _param(
        "_lastUpdated",
        "date",
        "Préfixes gt et ge seulement. / Only the gt and ge prefixes.",
    ),
    _param("_count", "number", "Taille de page, 1 à 200 (50). / Page size, 1 to 200 (50)."),
    _param(
        "_cursor",
        "string",
        "Curseur opaque du lien next. / Opaque cursor of the next link.",
    ),
]


@functools.cache
def capability_statement(issuer: str) -> dict[str, Any]:
    """What the facade serves, R4B (4.3.0), JSON only, OAuth2 client credentials."""
    base = f"{issuer.rstrip('/')}/fhir"
    resource: dict[str, Any] = {
        "resourceType": "CapabilityStatement",
        "id": "mno-gateway",
        "url": f"{base}/metadata",
        "version": __version__,
        "name": "MnoGateway",
        "title": "Passerelle MNO — façade FHIR / MNO Gateway — FHIR facade",
        "status": "active",
        "date": DATE,
        "publisher": "Mécanisme National d'Orientation (MNO), Guinée",
        "description": (
            "Référencements pseudonymisés entre agences : ServiceRequest (la demande, Patient "
            "contenu sans nom), Task (le circuit des POS), Consent. / Pseudonymised referrals "
            "between agencies: ServiceRequest (the request, contained Patient without a name), "
            "Task (the SOP workflow), Consent."
        ),
        "kind": "instance",
        "software": {"name": "MNO Gateway", "version": __version__},
        "implementation": {"description": "MNO Gateway FHIR facade", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Erreurs en OperationOutcome (français dans details.text, anglais dans "
                    "diagnostics). / Errors as OperationOutcome (French in details.text, "
                    "English in diagnostics)."
                ),
                "security": {
                    "extension": [
                        {
                            "url": OAUTH_URIS,
                            "extension": [
                                {"url": "token", "valueUri": f"{issuer.rstrip('/')}/oauth/token"},
                            ],
                        }
                    ],
                    "cors": False,
                    "service": [
                        {
                            "coding": [{"system": RESTFUL_SECURITY, "code": "OAuth"}],
                            "text": "OAuth2 client credentials",
                        }
                    ],
                    "description": (
                        "OAuth2, identifiants client (RFC 6749 §4.4 ; private_key_jwt ou "
                        "client_secret_basic) ; jeton Bearer JWT. Portées : referrals:read, "
                        "referrals:write, consent:read, consent:write. / OAuth2 client "
                        "credentials (RFC 6749 §4.4; private_key_jwt or client_secret_basic); "
                        "Bearer JWT. Scopes: referrals:read, referrals:write, consent:read, "
                        "consent:write."
                    ),
                },
                "resource": [_service_request(), _task(), _consent()],
            }
        ],
    }
    return validate("CapabilityStatement", resource)


def _service_request() -> dict[str, Any]:
    return {
        "type": "ServiceRequest",
        "documentation": (
            "Un référencement. Création : ServiceRequest (ou Bundle qui en contient un) avec "
            "Patient contenu, en-tête Idempotency-Key ou If-None-Exist obligatoire. / A "
            "referral. Create: a ServiceRequest (or a Bundle holding one) with a contained "
            "Patient; an Idempotency-Key or If-None-Exist header is required."
        ),
        "interaction": _interactions("read", "search-type", "create"),
        "versioning": "versioned",
        "readHistory": False,
        "updateCreate": False,
        "conditionalCreate": True,
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchParam": [
            _param(
                "status",
                "token",
                "active | revoked | completed (liste séparée par des virgules). / "
                "Comma-separated list allowed.",
            ),
            *_COMMON_SEARCH,
        ],
    }


def _task() -> dict[str, Any]:
    return {
        "type": "Task",
        "documentation": (
            "Le circuit d'un référencement (même id que le ServiceRequest). PUT avec "
            'If-Match: W/"<version>" : status ou businessStatus changé = une étape des POS '
            "(acknowledge, accept, decline avec statusReason, complete avec output, close, "
            "cancel). / The workflow of a referral (same id as its ServiceRequest). PUT with "
            'If-Match: W/"<version>": a changed status or businessStatus is one SOP step.'
        ),
        "interaction": _interactions("read", "search-type", "update"),
        "versioning": "versioned-update",
        "readHistory": False,
        "updateCreate": False,
        "conditionalUpdate": False,
        "searchParam": [
            _param("status", "token", "requested | received | accepted | rejected | …"),
            _param(
                "business-status",
                "token",
                "Statut MNO du référencement. / MNO referral status "
                "(https://mno.gov.gn/fhir/CodeSystem/referral-status).",
            ),
            *_COMMON_SEARCH,
        ],
    }


def _consent() -> dict[str, Any]:
    return {
        "type": "Consent",
        "documentation": (
            "Registre des consentements (lecture, recherche par patient:identifier, "
            "création). / Consent registry (read, search by patient:identifier, create)."
        ),
        "interaction": _interactions("read", "search-type", "create"),
        "searchParam": [
            _param(
                "patient",
                "reference",
                "Modificateur :identifier avec le pseudonyme. / "
                "The :identifier modifier with the pseudonym.",
            )
        ],
    }
