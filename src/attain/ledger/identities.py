"""Who is acting, compared as a person: `Alice` and `alice`, `bob ` and `bob`, a full-width
`ｃarol` and `carol` are one identity, so nobody approves their own adjustment by retyping their
name. The name as typed is what is recorded; the normalised form is only compared."""

from __future__ import annotations

import unicodedata


def normalised_identity(name: str) -> str:
    """NFKC-normalised, case-folded, inner whitespace collapsed and stripped."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


def same_person(a: str, b: str) -> bool:
    return normalised_identity(a) == normalised_identity(b)
