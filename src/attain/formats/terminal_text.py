"""User data made safe for a terminal: control characters shown as escapes, never acted on.

ANSI and OSC escape sequences start with ESC (a control character); a name carrying one could
recolour, retitle or hyperlink the terminal. `visible` writes each control character as its
escape (`\\x1b`), and `user_text` wraps data in a Rich Text so brackets in it are never markup.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides that can
# make a terminal show text in another order than it is stored.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with every control character written as an escape (`\\x1b`), so none acts."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def user_text(text: object) -> Text:
    """User data as a Rich Text: never parsed as markup, control characters made visible."""
    return Text(visible(str(text)))
