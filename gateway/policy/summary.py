"""The French summary of a policy: who may receive what, for which purpose, on which condition."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.policy.checks import PolicyIssue
from gateway.policy.labels import (
    CATEGORY_LABELS,
    KIND_LABELS,
    NOTIFY_LABELS,
    PARTY_LABELS,
    PURPOSE_LABELS,
    fr,
)
from gateway.policy.models import DATA_CATEGORIES, PURPOSES, Flow, PolicyFile

_CONDITIONS = {
    "none": "sans consentement (données agrégées, non identifiantes)",
    "required": "avec un consentement actif (donné à l'agence ou à son type d'agence)",
    "explicit": "avec un consentement explicite nommant l'agence destinataire",
}


def _join(items: Iterable[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]


def _days(days: int) -> str:
    if days % 365 == 0:
        years = days // 365
        return f"{years} an{'s' if years > 1 else ''} ({days} jours)"
    if days % 30 == 0:
        return f"{days // 30} mois ({days} jours)"
    return f"{days} jour{'s' if days > 1 else ''}"


def _role(policy: PolicyFile, role: str) -> str:
    definition = policy.roles.get(role)
    return f"« {definition.label_fr} »" if definition else role


def _condition(policy: PolicyFile, flow: Flow, category: str) -> str:
    if flow.consent == "explicit" or category in policy.explicit_consent_categories:
        return "explicit"
    if flow.consent == "not_required_for_statistical" and category == "statistical":
        return "none"
    return "required"


def summarise(policy: PolicyFile, warnings: Iterable[PolicyIssue] = ()) -> str:
    """Readable French text for the steering committee; plain text, one idea per line."""
    out: list[str] = []
    add = out.append
    add(f"Protocole d'accord : {policy.title_fr}")
    add(
        f"Politique « {policy.policy_id} », version {policy.version}, "
        f"en vigueur à partir du {policy.effective_from.strftime('%d/%m/%Y')}"
    )
    add("")
    add(
        "Règle générale : tout partage qui n'est pas autorisé ci-dessous est refusé ; "
        "une interdiction l'emporte toujours sur une autorisation."
    )

    add("")
    add("1. Membres et rôles")
    for role, definition in policy.roles.items():
        holders: list[str] = []
        for member in policy.members:
            if role in member.roles:
                holders += [f"agences de type « {fr(KIND_LABELS, k)} »" for k in member.kinds]
                holders += [f"agence {code}" for code in member.agencies]
        who = _join(dict.fromkeys(holders)) or "aucun membre pour l'instant"
        add(f"   • {definition.label_fr} ({role}) : {who}")
        if definition.description_fr:
            add(f"     {definition.description_fr}")

    add("")
    add("2. Qui peut recevoir quoi, pour quelle finalité, à quelle condition")
    for purpose in PURPOSES:
        flows = [f for f in policy.flows if f.purpose == purpose]
        if not flows:
            add(f"   Finalité « {fr(PURPOSE_LABELS, purpose)} » : aucun partage autorisé.")
            continue
        header = f"   Finalité « {fr(PURPOSE_LABELS, purpose)} »"
        if purpose in policy.parties_only_purposes:
            header += " — seules les parties à l'orientation reçoivent les données"
        add(header)
        for flow in flows:
            add(f"     • [{flow.id}]")
            if flow.description_fr:
                add(f"       {flow.description_fr}")
            target = " ou ".join(_role(policy, r) for r in flow.to_roles)
            if flow.parties is not None:
                parties = " ou ".join(fr(PARTY_LABELS, p) for p in flow.parties)
                target += f", seulement s'il est {parties}"
            add(f"       Qui reçoit : {target}")
            source = (
                " ou ".join(_role(policy, r) for r in flow.from_roles)
                if flow.from_roles is not None
                else "tout membre"
            )
            add(f"       Envoyé par : {source}")
            add("       Quoi, à quelle condition :")
            for category in DATA_CATEGORIES:
                if category in flow.categories:
                    condition = _CONDITIONS[_condition(policy, flow, category)]
                    add(f"         - {fr(CATEGORY_LABELS, category)} : {condition}")

    add("")
    add("3. Catégories de données")
    for category in DATA_CATEGORIES:
        note = policy.categories.get(category)
        explicit = category in policy.explicit_consent_categories
        line = f"   • {fr(CATEGORY_LABELS, category)} ({category})"
        if explicit:
            line += " — consentement explicite exigé, pour cette catégorie et ce destinataire"
        add(line)
        if note is not None:
            add(f"     {note.description_fr}")

    add("")
    minors = policy.minors
    add("4. Mineurs")
    add(f"   • Majorité : {minors.age_of_majority} ans.")
    add(
        "   • Consentement du parent ou tuteur : "
        + ("obligatoire." if minors.guardian_consent_required else "non exigé.")
    )
    if minors.child_assent_from_age is None:
        add("   • Assentiment de l'enfant : non exigé.")
    else:
        add(f"   • Assentiment de l'enfant : exigé à partir de {minors.child_assent_from_age} ans.")
    add(
        "   • Âge inconnu : "
        + (
            "traité comme mineur."
            if minors.unknown_age == "treat_as_minor"
            else "traité comme majeur."
        )
    )
    if minors.note_fr:
        add(f"   {minors.note_fr}")

    add("")
    add("5. Interdictions (priment sur toute autorisation)")
    if not policy.deny:
        add("   Aucune interdiction explicite (le refus par défaut s'applique).")
    for rule in policy.deny:
        parts = []
        parts.append(
            "finalités " + _join(f"« {fr(PURPOSE_LABELS, p)} »" for p in rule.purposes)
            if rule.purposes is not None
            else "toutes finalités"
        )
        parts.append(
            "catégories " + _join(fr(CATEGORY_LABELS, c) for c in rule.categories)
            if rule.categories is not None
            else "toutes catégories"
        )
        targets = []
        if rule.to_roles is not None:
            targets.append("rôles " + _join(_role(policy, r) for r in rule.to_roles))
        if rule.to_kinds is not None:
            targets.append("types " + _join(fr(KIND_LABELS, k) for k in rule.to_kinds))
        if rule.to_agencies is not None:
            targets.append("agences " + _join(rule.to_agencies))
        parts.append("destinataires : " + (" ; ".join(targets) if targets else "tous"))
        if rule.subject == "minor":
            parts.append("personnes mineures")
        elif rule.subject == "adult":
            parts.append("personnes majeures")
        add(f"   • [{rule.id}] {', '.join(parts)}.")
        add(f"     Motif : {rule.reason_fr}")

    add("")
    add("6. Durées de conservation")
    retention = policy.retention
    if retention.gateway_records:
        add("   À la passerelle :")
        for record, days in retention.gateway_records.items():
            add(f"     - {record} : {_days(days)}")
    if retention.recipient_copies:
        add("   Copies chez les destinataires :")
        for category in DATA_CATEGORIES:
            if category in retention.recipient_copies:
                days = retention.recipient_copies[category]
                add(f"     - {fr(CATEGORY_LABELS, category)} : {_days(days)}")
    if not retention.gateway_records and not retention.recipient_copies:
        add("   Aucune durée fixée.")

    add("")
    add("7. Accès d'urgence (bris de glace)")
    glass = policy.break_glass
    if glass is None or not glass.enabled:
        add("   Non prévu : aucun accès sans consentement.")
    else:
        add(f"   • Qui : {_join(_role(policy, r) for r in glass.roles)}")
        add(f"   • Finalités : {_join(fr(PURPOSE_LABELS, p) for p in glass.purposes)}")
        add(f"   • Catégories : {_join(fr(CATEGORY_LABELS, c) for c in glass.categories)}")
        add(f"   • Durée maximale : {glass.max_duration_hours} h, justification obligatoire")
        add(f"   • Notifiés : {_join(fr(NOTIFY_LABELS, n) for n in glass.notify)}")
        add(f"   • Conditions : {glass.conditions_fr}")
        add("   Les interdictions de la section 5 s'appliquent aussi aux accès d'urgence.")

    warnings = list(warnings)
    if warnings:
        add("")
        add(f"Points à revoir ({len(warnings)}) / Warnings:")
        for issue in warnings:
            add(f"   ⚠ {issue.where_fr()} : {issue.fr}")
            add(f"     {issue.where_en()}: {issue.en}")
    return "\n".join(out)
