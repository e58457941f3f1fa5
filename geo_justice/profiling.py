"""Each stage's wall time, CPU time and memory, for `--profile` and bench/pipeline.py.

A `StageProfile` is a progress callback: calling it with a stage name ends the previous stage. CPU time is
the process's (all its threads); on a loaded machine it shows what a stage costs when wall time does not.
Memory is the process's resident size at the end of each stage and its peak so far (Linux /proc; elsewhere
the peak from getrusage only).
"""
from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

_STATUS = Path("/proc/self/status")


def memory_mib() -> tuple[float, float]:
    """(resident now, peak resident) of this process, MiB; resident is NaN where /proc is missing."""
    if _STATUS.exists():
        fields = dict(line.split(":", 1) for line in _STATUS.read_text().splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float("nan"), peak / (1 << 20 if sys.platform == "darwin" else 1 << 10)


@dataclass
class StageProfile:
    """Stages in the order they ran: (name, wall seconds, CPU seconds, resident MiB at its end, peak MiB so far)."""

    stages: list[tuple[str, float, float, float, float]] = field(default_factory=list)
    _name: str | None = None
    _start: float = field(default_factory=time.perf_counter)
    _cpu: float = field(default_factory=time.process_time)

    def __call__(self, stage: str) -> None:
        """Start `stage` (ending the one before)."""
        now, cpu = time.perf_counter(), time.process_time()
        if self._name is not None:
            self.stages.append((self._name, now - self._start, cpu - self._cpu, *memory_mib()))
        self._name, self._start, self._cpu = stage, now, cpu

    def finish(self) -> None:
        self(None)  # type: ignore[arg-type]

    def table(self) -> str:
        lines = [f"{'stage':<36}{'seconds':>9}{'CPU s':>8}{'resident MiB':>14}{'peak MiB':>10}"]
        lines += [f"{name:<36}{seconds:>9.2f}{cpu:>8.2f}{rss:>14.0f}{peak:>10.0f}" for name, seconds, cpu, rss, peak in self.stages]
        lines.append(f"{'total':<36}{sum(s[1] for s in self.stages):>9.2f}{sum(s[2] for s in self.stages):>8.2f}")
        return "\n".join(lines)
