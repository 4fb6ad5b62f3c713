"""Cross-field checks of a policy file: errors that make it unusable, warnings to review."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

from gateway.policy.labels import CATEGORY_LABELS, PURPOSE_LABELS, fr
from gateway.policy.models import DATA_CATEGORIES, Flow, PolicyFile

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class PolicyIssue:
    """One problem in a policy file, located by field path and (when known) YAML line."""

    severity: Literal["error", "warning"]
    loc: Loc
    fr: str
    en: str
    line: int | None = field(default=None, compare=False)

    @property
    def path(self) -> str:
        return format_loc(self.loc)

    def where_fr(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"ligne {self.line}")
        if self.loc:
            parts.append(f"champ {self.path}")
        return ", ".join(parts) or "document"

    def where_en(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.loc:
            parts.append(f"field {self.path}")
        return ", ".join(parts) or "document"

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "field": self.path,
            "line": self.line,
            "fr": self.fr,
            "en": self.en,
        }


def format_loc(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def check_policy(policy: PolicyFile) -> list[PolicyIssue]:
    """Every cross-field problem: errors first, then warnings, each in file order."""
    issues: list[PolicyIssue] = []
    issues += _unknown_roles(policy)
    issues += _duplicate_ids(policy)
    if policy.break_glass is not None and "data_protection_focal_point" not in (
        policy.break_glass.notify
    ):
        issues.append(
            PolicyIssue(
                "error",
                ("break_glass", "notify"),
                "le point focal protection des données doit toujours être notifié "
                "(data_protection_focal_point)",
                "the data-protection focal point must always be notified "
                "(data_protection_focal_point)",
            )
        )
    issues += _role_usage(policy)
    issues += _flow_warnings(policy)
    issues += _overlaps(policy)
    issues += _cumulated_roles(policy)
    issues += _masked_flows(policy)
    issues += _policy_warnings(policy)
    return sorted(issues, key=lambda i: 0 if i.severity == "error" else 1)


def _unknown_roles(policy: PolicyFile) -> list[PolicyIssue]:
    declared = set(policy.roles)
    known = ", ".join(sorted(declared))
    refs: list[tuple[Loc, str]] = []
    for i, member in enumerate(policy.members):
        refs += [(("members", i, "roles", j), r) for j, r in enumerate(member.roles)]
    for i, flow in enumerate(policy.flows):
        refs += [(("flows", i, "to_roles", j), r) for j, r in enumerate(flow.to_roles)]
        refs += [(("flows", i, "from_roles", j), r) for j, r in enumerate(flow.from_roles or [])]
    for i, rule in enumerate(policy.deny):
        refs += [(("deny", i, "to_roles", j), r) for j, r in enumerate(rule.to_roles or [])]
    if policy.break_glass is not None:
        refs += [(("break_glass", "roles", j), r) for j, r in enumerate(policy.break_glass.roles)]
    return [
        PolicyIssue(
            "error",
            loc,
            f"rôle inconnu « {role} » (rôles déclarés : {known})",
            f"unknown role '{role}' (declared roles: {known})",
        )
        for loc, role in refs
        if role not in declared
    ]


def _duplicate_ids(policy: PolicyFile) -> list[PolicyIssue]:
    seen: set[str] = set()
    issues = []
    rules: list[tuple[Loc, str]] = [(("flows", i, "id"), f.id) for i, f in enumerate(policy.flows)]
    rules += [(("deny", i, "id"), d.id) for i, d in enumerate(policy.deny)]
    for loc, rule_id in rules:
        if rule_id in seen:
            issues.append(
                PolicyIssue(
                    "error",
                    loc,
                    f"identifiant de règle en double « {rule_id} »",
                    f"duplicate rule id '{rule_id}'",
                )
            )
        seen.add(rule_id)
    return issues


def _role_usage(policy: PolicyFile) -> list[PolicyIssue]:
    assigned = {r for m in policy.members for r in m.roles}
    used = {r for f in policy.flows for r in f.to_roles}
    used |= {r for f in policy.flows for r in f.from_roles or []}
    if policy.break_glass is not None:
        used |= set(policy.break_glass.roles)
    issues = []
    for role in policy.roles:
        if role not in assigned:
            issues.append(
                PolicyIssue(
                    "warning",
                    ("roles", role),
                    f"le rôle « {role} » n'est attribué à aucun membre",
                    f"role '{role}' is given to no member",
                )
            )
        elif role not in used:
            issues.append(
                PolicyIssue(
                    "warning",
                    ("roles", role),
                    f"le rôle « {role} » n'apparaît dans aucun flux : il ne donne accès à rien",
                    f"role '{role}' appears in no flow: it grants nothing",
                )
            )
    return issues


def _flow_warnings(policy: PolicyFile) -> list[PolicyIssue]:
    issues = []
    for i, flow in enumerate(policy.flows):
        if flow.consent == "not_required_for_statistical":
            if "statistical" not in flow.categories:
                issues.append(
                    PolicyIssue(
                        "warning",
                        ("flows", i, "consent"),
                        "« not_required_for_statistical » sans la catégorie « statistical » : "
                        "la condition équivaut à « required »",
                        "'not_required_for_statistical' without the 'statistical' category: "
                        "the condition amounts to 'required'",
                    )
                )
            elif "statistical" in policy.explicit_consent_categories:
                issues.append(
                    PolicyIssue(
                        "warning",
                        ("flows", i, "consent"),
                        "contradiction : « statistical » exige un consentement explicite "
                        "(explicit_consent_categories) ; l'exemption de ce flux est sans effet",
                        "contradiction: 'statistical' needs explicit consent "
                        "(explicit_consent_categories); this flow's exemption has no effect",
                    )
                )
        if flow.purpose == "research" and flow.consent != "explicit":
            issues.append(
                PolicyIssue(
                    "warning",
                    ("flows", i, "consent"),
                    "la recherche devrait exiger un consentement explicite (consent: explicit)",
                    "research should require explicit consent (consent: explicit)",
                )
            )
        if flow.parties is not None and flow.purpose not in policy.parties_only_purposes:
            issues.append(
                PolicyIssue(
                    "warning",
                    ("flows", i, "parties"),
                    f"« parties » limite ce flux aux parties, mais la finalité « {flow.purpose} » "
                    "n'est pas dans parties_only_purposes : vérifiez l'intention",
                    f"'parties' limits this flow to parties, but purpose '{flow.purpose}' is not "
                    "in parties_only_purposes: check the intent",
                )
            )
        for j, category in enumerate(flow.categories):
            if flow.categories.index(category) != j:
                issues.append(
                    PolicyIssue(
                        "warning",
                        ("flows", i, "categories", j),
                        f"catégorie « {category} » répétée",
                        f"category '{category}' repeated",
                    )
                )
    return issues


def _compatible(a: Collection[str] | None, b: Collection[str] | None) -> bool:
    return a is None or b is None or not set(a).isdisjoint(b)


def _condition_of(policy: PolicyFile, flow: Flow, category: str) -> str:
    if flow.consent == "explicit" or category in policy.explicit_consent_categories:
        return "explicit"
    if flow.consent == "not_required_for_statistical" and category == "statistical":
        return "none"
    return "required"


def _overlaps(policy: PolicyFile) -> list[PolicyIssue]:
    issues = []
    flows = policy.flows
    for i, a in enumerate(flows):
        for j in range(i + 1, len(flows)):
            b = flows[j]
            if a.purpose != b.purpose or set(a.to_roles).isdisjoint(b.to_roles):
                continue
            if not (_compatible(a.from_roles, b.from_roles) and _compatible(a.parties, b.parties)):
                continue
            shared = [c for c in DATA_CATEGORIES if c in a.categories and c in b.categories]
            if not shared:
                continue
            differing = [
                c for c in shared if _condition_of(policy, a, c) != _condition_of(policy, b, c)
            ]
            names = ", ".join(shared)
            if differing:
                issues.append(
                    PolicyIssue(
                        "warning",
                        ("flows", j),
                        f"contradiction entre les flux « {a.id} » et « {b.id} » pour "
                        f"{', '.join(differing)} : conditions de consentement différentes, "
                        "la moins exigeante s'applique",
                        f"flows '{a.id}' and '{b.id}' contradict each other for "
                        f"{', '.join(differing)}: different consent conditions, the least "
                        "demanding one applies",
                    )
                )
            else:
                issues.append(
                    PolicyIssue(
                        "warning",
                        ("flows", j),
                        f"les flux « {a.id} » et « {b.id} » se chevauchent ({names})",
                        f"flows '{a.id}' and '{b.id}' overlap ({names})",
                    )
                )
    return issues


def _cumulated_roles(policy: PolicyFile) -> list[PolicyIssue]:
    """An agency holding several roles gets the least demanding condition of their flows."""
    roles_by_agency: dict[str, set[str]] = {}
    for member in policy.members:
        for code in member.agencies:
            roles_by_agency.setdefault(code, set()).update(member.roles)
    issues = []
    for code, roles in roles_by_agency.items():
        for purpose in dict.fromkeys(f.purpose for f in policy.flows):
            flows = [f for f in policy.flows if f.purpose == purpose and roles & set(f.to_roles)]
            for category in DATA_CATEGORIES:
                carrying = [f for f in flows if category in f.categories]
                # Only flows that can apply to the same request compete.
                clashes = [
                    (a, b)
                    for n, a in enumerate(carrying)
                    for b in carrying[n + 1 :]
                    if _compatible(a.from_roles, b.from_roles)
                    and _compatible(a.parties, b.parties)
                    and _condition_of(policy, a, category) != _condition_of(policy, b, category)
                ]
                if not clashes:
                    continue
                ids = ", ".join(dict.fromkeys(f.id for pair in clashes for f in pair))
                issues.append(
                    PolicyIssue(
                        "warning",
                        ("members",),
                        f"l'agence {code} cumule des rôles dont les flux ({ids}) fixent des "
                        f"conditions différentes pour « {fr(CATEGORY_LABELS, category)} » "
                        f"({purpose}) : la moins exigeante s'applique",
                        f"agency {code} holds roles whose flows ({ids}) set different conditions "
                        f"for '{category}' ({purpose}): the least demanding one applies",
                    )
                )
    return issues


def _masked_flows(policy: PolicyFile) -> list[PolicyIssue]:
    """A flow that an unconditional prohibition cancels entirely is probably a mistake."""
    issues = []
    for i, flow in enumerate(policy.flows):
        for rule in policy.deny:
            if rule.subject != "any" or rule.to_kinds is not None or rule.to_agencies is not None:
                continue
            if rule.purposes is not None and flow.purpose not in rule.purposes:
                continue
            if rule.categories is not None and not set(flow.categories) <= set(rule.categories):
                continue
            if rule.to_roles is not None and not set(flow.to_roles) <= set(rule.to_roles):
                continue
            issues.append(
                PolicyIssue(
                    "warning",
                    ("flows", i),
                    f"le flux « {flow.id} » n'autorise jamais rien : l'interdiction « {rule.id} » "
                    "le couvre entièrement",
                    f"flow '{flow.id}' never permits anything: prohibition '{rule.id}' covers it",
                )
            )
    return issues


def _policy_warnings(policy: PolicyFile) -> list[PolicyIssue]:
    issues = []
    if "protection_sensitive" not in policy.explicit_consent_categories:
        issues.append(
            PolicyIssue(
                "warning",
                ("explicit_consent_categories",),
                "les données de protection sensibles (traite, VBG, santé mentale) devraient "
                "exiger un consentement explicite",
                "protection-sensitive data (trafficking, GBV, mental health) should require "
                "explicit consent",
            )
        )
    if "referral" not in policy.parties_only_purposes:
        issues.append(
            PolicyIssue(
                "warning",
                ("parties_only_purposes",),
                "pour l'orientation, seules les parties devraient recevoir les données "
                "(ajoutez « referral »)",
                "for referral only the parties should receive data (add 'referral')",
            )
        )
    shared = {c for f in policy.flows for c in f.categories}
    for category in DATA_CATEGORIES:
        if category in shared and category not in policy.retention.recipient_copies:
            issues.append(
                PolicyIssue(
                    "warning",
                    ("retention", "recipient_copies"),
                    f"aucune durée de conservation chez le destinataire pour "
                    f"« {fr(CATEGORY_LABELS, category)} »",
                    f"no retention period at recipients for '{category}'",
                )
            )
    minors = policy.minors
    if (
        minors.child_assent_from_age is not None
        and minors.child_assent_from_age >= minors.age_of_majority
    ):
        issues.append(
            PolicyIssue(
                "warning",
                ("minors", "child_assent_from_age"),
                "l'âge de l'assentiment atteint la majorité : l'assentiment ne sera jamais demandé",
                "the assent age reaches majority: assent will never be asked",
            )
        )
    glass = policy.break_glass
    if glass is not None and glass.max_duration_hours > 24:
        issues.append(
            PolicyIssue(
                "warning",
                ("break_glass", "max_duration_hours"),
                "un accès d'urgence de plus de 24 h dépasse la durée prévue",
                "an emergency access longer than 24 h exceeds the intended duration",
            )
        )
    purposes_with_flows = {f.purpose for f in policy.flows}
    for purpose in policy.parties_only_purposes:
        if purpose not in purposes_with_flows:
            issues.append(
                PolicyIssue(
                    "warning",
                    ("parties_only_purposes",),
                    f"aucun flux pour la finalité « {fr(PURPOSE_LABELS, purpose)} »",
                    f"no flow for purpose '{purpose}'",
                )
            )
    return issues
