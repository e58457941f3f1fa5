"""One error type for every bad input: it lists every problem found, not the first."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, which field, and what is wrong."""

    file: str
    where: str | None  # "line 7 (id ml-tgi-gao)", "feature 3", "band 1", or None for the whole file
    field: str | None
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.where:
            parts.append(self.where)
        if self.field:
            parts.append(f"field '{self.field}'")
        return ": ".join(parts) + f": {self.message}"


class LayerError(ValueError):
    """Raised by every loader when its input is bad; `problems` lists all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} found"
        super().__init__(header + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass
class Report:
    """Collects problems (errors) and repairs (notes) while a file is checked."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def for_path(cls, path: str | Path) -> "Report":
        return cls(Path(path).name)

    def error(self, where: str | None, field_name: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, where, field_name, message))

    def note(self, where: str | None, field_name: str | None, message: str) -> None:
        self.notes.append(str(Problem(self.file, where, field_name, message)))

    def raise_if_any(self) -> None:
        if self.problems:
            raise LayerError(self.problems)
