"""The one exception root for user mistakes, rendered like a compiler's diagnostics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Location:
    """Where a user mistake is: file, 1-based line and column, and the text of that line."""

    file: str
    line: int
    col: int
    text: str = ""
    width: int = 1


class KverifyError(Exception):
    """A mistake in a model, a spec or a command line.  Never a bug of kverify itself.

    ``render()`` gives ``file:line:col: error: message``, the line, a caret under the column and
    a hint; the command line prints it and exits with code 2.
    """

    def __init__(self, message: str, location: Location | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def render(self) -> str:
        lines = []
        loc = self.location
        if loc is not None:
            lines.append(f"{loc.file}:{loc.line}:{loc.col}: error: {self.message}")
            if loc.text:
                lines.append(f"    {loc.text.rstrip()}")
                pad = "".join(c if c == "\t" else " " for c in loc.text[: loc.col - 1])
                lines.append(f"    {pad}" + "^" * max(1, loc.width))
        else:
            lines.append(f"error: {self.message}")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()
