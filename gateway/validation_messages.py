"""French and English texts for every request-validation error the API can answer.

Pydantic writes its messages in English only ("Field required", "Value error, …"); a partner
reading the answer in French must get French. Each pydantic error *type* has a French template
here, filled from the error's ``ctx`` (limits, patterns, expected values); the English text is
pydantic's own, without its "Value error, " prefix. Our own validators raise
``ValueError("texte français / English text")``: the two halves are split here. A type this
table does not know still gets a French text (the generic one, naming the type), never only
English — ``tests/gateway/test_validation_messages.py`` walks every type pydantic-core defines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# {name} placeholders come from the error's ctx; a missing one falls back to the generic text.
FRENCH: dict[str, str] = {
    "missing": "Champ obligatoire",
    "missing_argument": "Argument obligatoire",
    "missing_keyword_only_argument": "Argument nommé obligatoire",
    "missing_positional_only_argument": "Argument positionnel obligatoire",
    "extra_forbidden": "Champ non autorisé (inconnu de ce schéma)",
    "unexpected_keyword_argument": "Argument nommé inattendu",
    "unexpected_positional_argument": "Argument positionnel inattendu",
    "json_invalid": "JSON illisible : {error}",
    "json_type": "Un document JSON est attendu (texte, octets ou bytearray)",
    "model_type": "Un objet JSON est attendu",
    "model_attributes_type": "Un objet JSON est attendu",
    "dataclass_type": "Un objet JSON est attendu",
    "dataclass_exact_type": "Un objet JSON est attendu",
    "dict_type": "Un objet JSON est attendu",
    "mapping_type": "Un objet JSON est attendu",
    "list_type": "Une liste est attendue",
    "tuple_type": "Une liste est attendue",
    "set_type": "Une liste de valeurs distinctes est attendue",
    "set_item_not_hashable": "Élément de liste non comparable",
    "frozen_set_type": "Une liste de valeurs distinctes est attendue",
    "iterable_type": "Une liste est attendue",
    "iteration_error": "Erreur lors du parcours de la liste : {error}",
    "generator_type": "Une liste est attendue",
    "too_short": "Trop peu d'éléments : au moins {min_length} attendu(s), {actual_length} reçu(s)",
    "too_long": "Trop d'éléments : au plus {max_length} attendu(s), {actual_length} reçu(s)",
    "string_type": "Une chaîne de caractères est attendue",
    "string_sub_type": "Une chaîne de caractères simple est attendue",
    "string_unicode": "Une chaîne Unicode valide est attendue",
    "string_too_short": "Texte trop court : au moins {min_length} caractère(s)",
    "string_too_long": "Texte trop long : au plus {max_length} caractère(s)",
    "string_pattern_mismatch": "Format invalide : la valeur doit correspondre à « {pattern} »",
    "string_not_ascii": "Seuls les caractères ASCII sont acceptés",
    "bytes_type": "Des octets sont attendus",
    "bytes_too_short": "Trop court : au moins {min_length} octet(s)",
    "bytes_too_long": "Trop long : au plus {max_length} octet(s)",
    "bytes_invalid_encoding": "Encodage d'octets invalide : {error}",
    "int_type": "Un nombre entier est attendu",
    "int_parsing": "Un nombre entier est attendu (texte non convertible)",
    "int_parsing_size": "Nombre entier hors des limites",
    "int_from_float": "Un nombre entier est attendu (la valeur a une partie décimale)",
    "float_type": "Un nombre est attendu",
    "float_parsing": "Un nombre est attendu (texte non convertible)",
    "finite_number": "Un nombre fini est attendu",
    "decimal_type": "Un nombre décimal est attendu",
    "decimal_parsing": "Un nombre décimal est attendu (texte non convertible)",
    "decimal_max_digits": "Au plus {max_digits} chiffre(s) au total",
    "decimal_max_places": "Au plus {decimal_places} chiffre(s) après la virgule",
    "decimal_whole_digits": "Au plus {whole_digits} chiffre(s) avant la virgule",
    "complex_type": "Un nombre complexe est attendu",
    "complex_str_parsing": "Un nombre complexe est attendu (texte non convertible)",
    "bool_type": "Un booléen (true ou false) est attendu",
    "bool_parsing": "Un booléen (true ou false) est attendu (texte non convertible)",
    "greater_than": "La valeur doit être supérieure à {gt}",
    "greater_than_equal": "La valeur doit être supérieure ou égale à {ge}",
    "less_than": "La valeur doit être inférieure à {lt}",
    "less_than_equal": "La valeur doit être inférieure ou égale à {le}",
    "multiple_of": "La valeur doit être un multiple de {multiple_of}",
    "literal_error": "Valeur non admise : attendu {expected}",
    "enum": "Valeur non admise : attendu {expected}",
    "none_required": "La valeur doit être null",
    "is_instance_of": "Type inattendu : {class} attendu",
    "is_subclass_of": "Type inattendu : sous-classe de {class} attendue",
    "callable_type": "Une fonction est attendue",
    "arguments_type": "Des arguments sont attendus",
    "date_type": "Une date (AAAA-MM-JJ) est attendue",
    "date_parsing": "Date invalide (format AAAA-MM-JJ) : {error}",
    "date_from_datetime_parsing": "Date invalide (format AAAA-MM-JJ) : {error}",
    "date_from_datetime_inexact": "Une date sans heure est attendue",
    "date_past": "La date doit être dans le passé",
    "date_future": "La date doit être dans le futur",
    "time_type": "Une heure (HH:MM:SS) est attendue",
    "time_parsing": "Heure invalide (format HH:MM:SS) : {error}",
    "datetime_type": "Une date et heure ISO 8601 est attendue",
    "datetime_parsing": "Date et heure invalides (ISO 8601) : {error}",
    "datetime_object_invalid": "Date et heure invalides : {error}",
    "datetime_from_date_parsing": "Date et heure invalides (ISO 8601) : {error}",
    "datetime_past": "La date et heure doit être dans le passé",
    "datetime_future": "La date et heure doit être dans le futur",
    "timezone_naive": "La date et heure ne doit pas porter de fuseau horaire",
    "timezone_aware": "La date et heure doit porter un fuseau horaire (par exemple Z ou +00:00)",
    "timezone_offset": "Décalage horaire attendu : {tz_expected}, reçu : {tz_actual}",
    "time_delta_type": "Une durée est attendue",
    "time_delta_parsing": "Durée invalide : {error}",
    "uuid_type": "Un UUID est attendu",
    "uuid_parsing": "UUID invalide : {error}",
    "uuid_version": "Version d'UUID attendue : {expected_version}",
    "url_type": "Une URL est attendue",
    "url_parsing": "URL invalide : {error}",
    "url_syntax_violation": "URL invalide : {error}",
    "url_too_long": "URL trop longue : au plus {max_length} caractère(s)",
    "url_scheme": "Schéma d'URL non admis : attendu {expected_schemes}",
    "union_tag_invalid": (
        "Valeur du discriminant {discriminator} non admise : attendu {expected_tags}"
    ),
    "union_tag_not_found": "Le discriminant {discriminator} est absent",
    "frozen_field": "Ce champ ne peut pas être modifié",
    "frozen_instance": "Cet objet ne peut pas être modifié",
    "value_error": "Valeur invalide : {error}",
    "assertion_error": "Assertion non vérifiée : {error}",
    "no_such_attribute": "Attribut inconnu : {attribute}",
    "get_attribute_error": "Erreur à la lecture d'un attribut : {error}",
    "invalid_key": "Clé invalide : une chaîne de caractères est attendue",
    "needs_python_object": "Un objet Python est attendu",
    "recursion_loop": "Structure récursive : boucle détectée",
    "default_factory_not_called": "La valeur par défaut n'a pas pu être calculée",
    "ip_v4_address": "Une adresse IPv4 est attendue",
    "ip_v6_address": "Une adresse IPv6 est attendue",
    "ip_any_address": "Une adresse IP est attendue",
    "ip_v4_network": "Un réseau IPv4 est attendu",
    "ip_v6_network": "Un réseau IPv6 est attendu",
    "ip_any_network": "Un réseau IP est attendu",
    "ip_v4_interface": "Une interface IPv4 est attendue",
    "ip_v6_interface": "Une interface IPv6 est attendue",
    "ip_any_interface": "Une interface IP est attendue",
    "path_type": "Un chemin est attendu",
    "path_not_file": "Le chemin ne désigne pas un fichier",
    "path_not_directory": "Le chemin ne désigne pas un dossier",
    "path_not_exists": "Le chemin n'existe pas",
    "value_error_email": "Adresse électronique invalide",
    "model_field_overridden": "Champ redéfini de façon incompatible",
    "model_field_type_missing": "Type de champ manquant",
    "no_such_field": "Champ inconnu",
    "counter_type": "Un objet de comptage est attendu",
    "deque_type": "Une liste est attendue",
    "ellipsis_error": "La valeur doit être « ... »",
    "fraction_type": "Une fraction est attendue",
    "fraction_parsing": "Une fraction est attendue (texte non convertible)",
    "frozen_dict_type": "Un objet JSON est attendu",
    "missing_sentinel_error": "Valeur réservée inattendue",
    "multiple_argument_values": "Argument fourni plusieurs fois",
    "named_tuple_type": "Une liste est attendue",
    "ordered_dict_type": "Un objet JSON est attendu",
    "recursion_depth_exceeded": "Structure trop profonde",
}

GENERIC_FR = "Valeur invalide ({type})"

_VALUE_ERROR_PREFIXES = ("Value error, ", "Assertion failed, ")


def _fill(template: str, ctx: Mapping[str, Any]) -> str | None:
    try:
        return template.format_map({k: _show(v) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return None


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_show(v) for v in value)
    # pydantic joins expected values in English ("'a', 'b' or 'c'"); the French text says "ou".
    return str(value).replace("' or '", "' ou '")


def _english(err: Mapping[str, Any]) -> str:
    text = str(err.get("msg") or "Invalid value")
    for prefix in _VALUE_ERROR_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def messages(err: Mapping[str, Any]) -> tuple[str, str]:
    """(French, English) for one pydantic error dict."""
    kind = str(err.get("type") or "value_error")
    en = _english(err)
    if kind in ("value_error", "assertion_error"):
        # Our validators write "texte français / English text"; keep both halves as written.
        fr_part, sep, en_part = en.partition(" / ")
        if sep:
            return fr_part.strip(), en_part.strip()
        detail = str((err.get("ctx") or {}).get("error") or en)
        return FRENCH[kind].format(error=detail), en
    ctx = err.get("ctx") or {}
    known = FRENCH.get(kind)
    if known is None:
        return GENERIC_FR.format(type=kind), en
    filled = _fill(known, ctx)
    if filled is None:  # a placeholder the ctx lacks: keep the sentence, drop the detail
        filled = known.split("{", 1)[0].rstrip(" :«")
    return filled, en


def message(err: Mapping[str, Any], lang: str) -> str:
    fr, en = messages(err)
    return en if lang == "en" else fr
