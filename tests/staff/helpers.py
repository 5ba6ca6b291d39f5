"""Reading admin pages in tests: figures on the home page, changelist rows and cells, and change forms."""

import re
from html.parser import HTMLParser


def figure(html: str, workshop, key: str) -> dict:
    """One figure of a workshop's card on the admin home: its value, link and note."""
    card = html[html.index(f'data-workshop="{workshop.slug}"'):]
    card = card[: card.index("</section>")]
    match = re.search(rf'data-figure="{key}">(.*?)</li>', card, re.S)
    assert match, f"no figure {key!r} on the card"
    body = match.group(1)
    link = re.search(r'<a href="([^"]+)">', body)
    value = re.search(r'<span class="ops-value">([^<]*)</span>', body).group(1)
    note = re.search(r'<span class="ops-note">(.*?)</span>\s*$', body.strip(), re.S)
    return {
        "value": value,
        "url": link.group(1).replace("&amp;", "&") if link else "",
        "note": re.sub(r"<[^>]+>", "", note.group(1)).strip() if note else "",
    }


def has_figure(html: str, workshop, key: str) -> bool:
    card = html[html.index(f'data-workshop="{workshop.slug}"'):]
    return f'data-figure="{key}"' in card[: card.index("</section>")]


class ChangelistRows(HTMLParser):
    """Each result row of a changelist as {column class: text}, boolean icons read as yes/no."""

    def __init__(self, html: str):
        super().__init__()
        self.rows, self._cell, self._in_body = [], None, False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "result_list":
            self._in_table = True
        if tag == "tbody" and getattr(self, "_in_table", False):
            self._in_body = True
        if tag == "tr" and self._in_body:
            self.rows.append({"_class": attrs.get("class") or ""})
        classes = (attrs.get("class") or "").split()
        field = next((c[len("field-"):] for c in classes if c.startswith("field-")), None)
        if tag in ("td", "th") and field and self.rows:
            self._cell = (field, [])
        if tag == "img" and self._cell is not None:
            self._cell[1].append({"True": "yes", "False": "no"}.get(attrs.get("alt"), ""))
        if tag == "br" and self._cell is not None:
            self._cell[1].append(" | ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            name, parts = self._cell
            self.rows[-1][name] = re.sub(r"\s+", " ", "".join(parts)).strip()
            self._cell = None
        if tag == "tbody":
            self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1].append(data)


def rows(response) -> list[dict]:
    assert response.status_code == 200
    return ChangelistRows(response.content.decode()).rows


def dollars(text: str) -> int:
    """'$1,234.50' -> 123450 cents."""
    whole, cents = text.strip().lstrip("$").replace(",", "").split(".")
    return int(whole) * 100 + int(cents)


class FormFields(HTMLParser):
    """The values a browser would submit from a page's main form, as a dict for the test client."""

    def __init__(self, html: str):
        super().__init__()
        self.data, self._select, self._textarea, self._option_value = {}, None, None, None
        self._options = {}
        self.feed(html)
        for name, first in self._options.items():
            self.data.setdefault(name, first)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
            else:
                self.data[name] = attrs.get("value", "")
        if tag == "select" and name:
            self._select = name
        if tag == "option" and self._select:
            self._options.setdefault(self._select, attrs.get("value", ""))
            if "selected" in attrs:
                self.data[self._select] = attrs.get("value", "")
        if tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def form_data(response, **changes) -> dict:
    assert response.status_code == 200
    data = FormFields(response.content.decode()).data
    data.pop("action", None)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}
