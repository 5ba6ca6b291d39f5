"""Reading a team's list of attendees, pasted ("Name, email" lines, or rows copied from a
spreadsheet) or uploaded as CSV, into people with a message for every line that cannot be used."""

import csv
import io
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

ANGLE = re.compile(r"^\s*\"?(?P<name>[^<>\"]*?)\"?\s*<(?P<email>[^<>]+)>\s*$")
HEADER_WORDS = {"name", "email", "e-mail", "email address", "first name", "last name", "full name", "first", "last"}


@dataclass
class SeatLine:
    number: int  # the line (or CSV row) as the person counts them, from 1
    text: str
    name: str = ""
    email: str = ""
    error: str = ""


def _cells(text: str) -> list[str]:
    if "\t" in text:
        return text.split("\t")
    match = ANGLE.match(text)
    if match:
        return [match["name"], match["email"]]
    try:
        cells = next(csv.reader([text], skipinitialspace=True), [])
    except csv.Error:
        cells = text.split(",")
    if len(cells) == 1 and " " in cells[0].strip():
        # "Ana Diaz ana@school.org": the address is the word with an @.
        words = cells[0].split()
        return [" ".join(w for w in words if "@" not in w)] + [w for w in words if "@" in w]
    return cells


def _line(number: int, text: str, cells: list[str]) -> SeatLine:
    cells = [c.strip().strip("\"'") for c in cells if c and c.strip()]
    emails = [c for c in cells if "@" in c]
    name = " ".join(c for c in cells if "@" not in c).strip()
    line = SeatLine(number=number, text=text.strip(), name=name, email=emails[0] if emails else "")
    if not emails:
        line.error = "No email address on this line. Write it as “Name, email”."
    elif len(emails) > 1:
        line.error = "More than one email address on this line; give each person their own line."
    elif not name:
        line.error = "Add the person's name before their email."
    elif len(name) > 200:
        line.error = "This name is longer than 200 characters."
    else:
        try:
            validate_email(line.email)
        except ValidationError:
            line.error = f"“{line.email}” is not a valid email address."
    return line


def _mark_repeats(lines: list[SeatLine]) -> list[SeatLine]:
    first_seen: dict[str, int] = {}
    for line in lines:
        key = line.email.lower()
        if not key or line.error:
            continue
        if key in first_seen:
            line.error = f"This email is already on line {first_seen[key]}; each person needs their own email."
        else:
            first_seen[key] = line.number
    return lines


def _is_header(cells: list[str]) -> bool:
    words = {c.strip().lower() for c in cells if c.strip()}
    return bool(words) and words <= HEADER_WORDS


def parse_pasted(text: str) -> list[SeatLine]:
    """One person per non-blank line; numbers count every line, so people can find the one to fix."""
    lines = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if not raw.strip():
            continue
        cells = _cells(raw)
        if not lines and _is_header(cells):
            continue
        lines.append(_line(number, raw, cells))
    return _mark_repeats(lines)


def decode_upload(data: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without Excel's byte-order mark), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_csv(text: str) -> list[SeatLine]:
    """Rows of a CSV file: the cell with an @ is the email, the other cells (first and last name) the name."""
    lines = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    dialect = csv.excel_tab if text.count("\t") > text.count(",") else csv.excel
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), start=1):
            if not any(c.strip() for c in cells):
                continue
            if not lines and _is_header(cells):
                continue
            lines.append(_line(number, ", ".join(c.strip() for c in cells if c.strip()), cells))
    except csv.Error as exc:
        lines.append(SeatLine(number=len(lines) + 1, text="", error=f"This file could not be read as CSV ({exc})."))
    return _mark_repeats(lines)
