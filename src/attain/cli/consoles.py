"""The CLI's consoles: one place that decides how text reaches the terminal.

Lines are never wrapped at the terminal's width (`soft_wrap`): a path, a command or a problem in
them must copy whole, and a test must be able to find it whatever the width of the pipe.

User data (names, ids, file names) reaches the terminal as text, never as instructions: control
characters (ANSI and OSC escape sequences start with ESC) are shown escaped, as `\\x1b`, and a
string Rich cannot read as markup (a participant named `[/]`) is printed literally instead of
failing. Renderings that hold user data wrap it in `user_text`, so brackets in it
(`Maria Lopez [contractor]`) are shown whole.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.errors import MarkupError
from rich.text import Text

from attain.formats.terminal_text import user_text, visible

__all__ = ["stderr_console", "stdout_console", "user_text", "visible"]


class _SafeConsole(Console):
    """A Console whose strings never carry a working control character and never fail on
    markup: text that is not valid markup is shown as written."""

    def render_str(self, text: str, *args: Any, **kwargs: Any) -> Text:
        text = visible(text)
        try:
            return super().render_str(text, *args, **kwargs)
        except MarkupError:
            kwargs["markup"] = False
            return super().render_str(text, *args, **kwargs)


def stdout_console() -> Console:
    return _SafeConsole(soft_wrap=True)


def stderr_console() -> Console:
    return _SafeConsole(stderr=True, soft_wrap=True)
