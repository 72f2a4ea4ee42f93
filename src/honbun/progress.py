"""Progress of long jobs on standard error (standard output carries their results)."""

from __future__ import annotations

import sys
from datetime import datetime


def progress(message: str, job: str = "honbun train") -> None:
    """One progress line on stderr, with the time of day."""
    print(f"[{job} {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr)
