"""Read, validate and compile an MoU policy file, locating every error in the YAML text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gateway.errors import ValidationFailed
from gateway.policy.checks import PolicyIssue, check_policy
from gateway.policy.engine import CompiledPolicy
from gateway.policy.models import PolicyFile

ErrorKind = Literal["unreadable", "syntax", "invalid"]


class PolicyFileError(ValidationFailed):
    """A policy file that cannot be used; ``issues`` locate each problem."""

    code = "invalid_policy"

    def __init__(self, filename: str, kind: ErrorKind, issues: Sequence[PolicyIssue]) -> None:
        self.filename = filename
        self.kind = kind
        self.issues = list(issues)
        first = self.issues[0] if self.issues else None
        detail_fr = f" ({first.where_fr()} : {first.fr})" if first else ""
        detail_en = f" ({first.where_en()}: {first.en})" if first else ""
        super().__init__(
            f"Fichier de politique invalide : {filename}{detail_fr}",
            f"Invalid policy file: {filename}{detail_en}",
            errors=[issue.as_dict() for issue in self.issues],
        )


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy file that passed validation, compiled, with the warnings to review."""

    filename: str
    source: PolicyFile
    compiled: CompiledPolicy
    warnings: list[PolicyIssue]


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses duplicate keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_ERROR_FR: dict[str, str] = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu (faute de frappe ?)",
    "literal_error": "valeur non autorisée ; valeurs possibles : {expected}",
    "string_type": "texte attendu (mettez la valeur entre guillemets)",
    "string_pattern_mismatch": "format invalide (motif attendu : {pattern})",
    "string_too_short": "texte vide",
    "string_too_long": "texte trop long (au plus {max_length} caractères)",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "bool_type": "booléen attendu (true ou false)",
    "bool_parsing": "booléen attendu (true ou false)",
    "list_type": "liste attendue",
    "dict_type": "bloc « clé : valeur » attendu",
    "model_type": "bloc « clé : valeur » attendu",
    "model_attributes_type": "bloc « clé : valeur » attendu",
    "too_short": "au moins {min_length} élément(s) attendu(s)",
    "greater_than": "doit être supérieur à {gt}",
    "greater_than_equal": "doit être au moins {ge}",
    "less_than": "doit être inférieur à {lt}",
    "less_than_equal": "doit être au plus {le}",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_inexact": "date attendue (AAAA-MM-JJ), sans heure",
    "value_error": "valeur invalide : {error}",
}


def _message_fr(error: Any) -> str:
    template = _ERROR_FR.get(error.get("type", ""))
    if template is None:
        return f"valeur invalide ({error.get('msg', '')})"
    context = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    if "expected" in context:
        context["expected"] = context["expected"].replace(" or ", " ou ")
    try:
        return template.format(**context)
    except KeyError:
        return template.split(" :")[0]


_YAML_PROBLEMS_FR: tuple[tuple[str, str], ...] = (
    ("could not find expected ':'", "« : » manquant après une clé"),
    ("mapping values are not allowed here", "« clé : valeur » inattendu ici (indentation ?)"),
    ("found character '\\t'", "tabulation interdite, indentez avec des espaces"),
    ("found duplicate key", "clé en double"),
    ("expected <block end>", "indentation incohérente"),
    ("did not find expected key", "indentation incohérente ou clé manquante"),
    ("found undefined alias", "alias non défini"),
    ("found unexpected end of stream", "fin de fichier inattendue (guillemet non fermé ?)"),
    ("did not find expected ',' or ']'", "liste [ … ] mal fermée"),
    ("did not find expected ',' or '}'", "bloc { … } mal fermé"),
)


def _syntax_issue(exc: yaml.MarkedYAMLError) -> PolicyIssue:
    problem = exc.problem or exc.context or "syntax error"
    problem_fr = next((fr for en, fr in _YAML_PROBLEMS_FR if problem.startswith(en)), "erreur")
    mark = exc.problem_mark or exc.context_mark
    context = exc.context_mark
    where_fr = where_en = ""
    if mark is not None:
        where_fr = f", colonne {mark.column + 1}"
        where_en = f", column {mark.column + 1}"
    if context is not None and mark is not None and context.line != mark.line:
        where_fr += f", élément commencé ligne {context.line + 1}"
        where_en += f", element started on line {context.line + 1}"
    return PolicyIssue(
        "error",
        (),
        f"syntaxe YAML invalide : {problem_fr} ({problem}){where_fr}",
        f"invalid YAML syntax: {problem}{where_en}",
        mark.line + 1 if mark is not None else None,
    )


def _line_of(root: Node | None, loc: Sequence[str | int]) -> int | None:
    """The YAML line of a field path: the deepest node the path reaches."""
    if root is None:
        return None
    node: Node = root
    line = root.start_mark.line + 1
    for part in loc:
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode) and key_node.value == str(part):
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _locate(issue: PolicyIssue, root: Node | None) -> PolicyIssue:
    return PolicyIssue(issue.severity, issue.loc, issue.fr, issue.en, _line_of(root, issue.loc))


def parse_policy_text(text: str, filename: str = "<texte>") -> LoadedPolicy:
    """Validate and compile a policy given as YAML text; raise :class:`PolicyFileError`."""
    loader = _UniqueKeyLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        raise PolicyFileError(filename, "syntax", [_syntax_issue(exc)]) from None
    except yaml.YAMLError as exc:
        raise PolicyFileError(
            filename,
            "syntax",
            [PolicyIssue("error", (), f"syntaxe YAML invalide ({exc})", f"invalid YAML ({exc})")],
        ) from None
    finally:
        loader.dispose()

    if not isinstance(data, dict):
        raise PolicyFileError(
            filename,
            "invalid",
            [
                PolicyIssue(
                    "error",
                    (),
                    "le document doit être un bloc « clé : valeur » (policy_id, version, …)",
                    "the document must be a mapping (policy_id, version, …)",
                    1,
                )
            ],
        )
    try:
        source = PolicyFile.model_validate(data)
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if isinstance(p, str | int))
            issues.append(
                PolicyIssue("error", loc, _message_fr(error), error["msg"], _line_of(root, loc))
            )
        raise PolicyFileError(filename, "invalid", issues) from None

    checked = [_locate(issue, root) for issue in check_policy(source)]
    errors = [issue for issue in checked if issue.severity == "error"]
    if errors:
        raise PolicyFileError(filename, "invalid", errors)
    return LoadedPolicy(
        filename=filename,
        source=source,
        compiled=CompiledPolicy(source),
        warnings=[issue for issue in checked if issue.severity == "warning"],
    )


def load_policy(path: Path) -> LoadedPolicy:
    """Read, validate and compile a policy file; raise :class:`PolicyFileError` if unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason_fr = "fichier introuvable" if isinstance(exc, FileNotFoundError) else "illisible"
        reason_en = "file not found" if isinstance(exc, FileNotFoundError) else "unreadable"
        raise PolicyFileError(
            str(path),
            "unreadable",
            [
                PolicyIssue(
                    "error",
                    (),
                    f"{reason_fr} ({type(exc).__name__})",
                    f"{reason_en} ({type(exc).__name__})",
                )
            ],
        ) from None
    return parse_policy_text(text, str(path))
