"""benchmarks/RESULTS.md: add a row at the end of one section's table (sections may follow each other)."""
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def add_row(section: str, row: str, preamble: str = "", path: Path = RESULTS) -> None:
    """Append `row` after the last table line of `section` ("## Title"); create the section (its `preamble`:
    text and table header) at the end of the file when it is missing."""
    text = path.read_text() if path.is_file() else ""
    if section not in text:
        text = text.rstrip("\n") + f"\n\n{section}\n\n{preamble.strip()}\n"
    head, _, tail = text.partition(section)
    lines = tail.split("\n")
    end = next((i for i, ln in enumerate(lines) if i and ln.startswith("## ")), len(lines))
    last = max(i for i, ln in enumerate(lines[:end]) if ln.startswith("|"))
    path.write_text(head + section + "\n".join(lines[:last + 1] + [row] + lines[last + 1:]))


def commit() -> str:
    """The code that produced a row: the short git commit, '+' when tracked files had uncommitted changes."""
    root = RESULTS.parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
        return head + ("+" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
