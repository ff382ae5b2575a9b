"""What a validator reports: the shared result type of every ``validate_*`` module."""

from __future__ import annotations

from dataclasses import dataclass, field


class ValidatorMissing(RuntimeError):
    """A validator is not installed (``make check`` installs them)."""


@dataclass
class Findings:
    """What one validator said about one edition."""

    tool: str
    checked: int = 0  # pages or files looked at
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)  # reported, never a failure

    @property
    def ok(self) -> bool:
        return not self.errors and not self.warnings
