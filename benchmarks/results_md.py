"""benchmarks/RESULTS.md: add a row at the end of one section's table (sections may follow each other)."""
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
