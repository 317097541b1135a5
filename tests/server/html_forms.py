"""Read a page's forms and post them as a browser would: every named box, filled or left empty,
ticked boxes only, the pressed button's value (HTML's "successful controls")."""

from __future__ import annotations

from html.parser import HTMLParser


class Form:
    def __init__(self, attrs: dict):
        self.action, self.method = attrs.get("action", ""), attrs.get("method", "get").lower()
        self.fields: list[dict] = []  # in document order, as a browser sends them

    def names(self) -> set[str]:
        return {f["name"] for f in self.fields}

    def submit(self, fill: dict | None = None, tick: tuple = (), press: str | None = None) -> list[tuple[str, str]]:
        """The body pairs: ``fill`` types into boxes by name, ``tick`` checks boxes by name or
        (name, value), ``press`` is the (name, value) or value of the button clicked."""
        fill, out, pressed = dict(fill or {}), [], False
        unknown = set(fill) - self.names()
        assert not unknown, f"the form has no box named {unknown}"
        for f in self.fields:
            kind, name, value = f["type"], f["name"], f["value"]
            if kind in ("checkbox", "radio"):
                if f["checked"] or name in tick or (name, value) in tick:
                    out.append((name, value or "on"))
            elif kind in ("submit", "button"):
                if not pressed and press in (value, (name, value)):
                    out.append((name, value))
                    pressed = True
            else:
                out.append((name, str(fill.get(name, value))))
        return out


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a))
        elif self.forms and tag in ("input", "button", "textarea") and a.get("name"):
            default = "submit" if tag == "button" else "textarea" if tag == "textarea" else "text"
            field = {"type": a.get("type", default).lower(), "name": a["name"], "value": a.get("value", ""),
                     "checked": "checked" in a}  # fmt: skip
            self.forms[-1].fields.append(field)
            if tag == "textarea":
                self._textarea = field

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> list[Form]:
    p = _Parser()
    p.feed(html)
    return p.forms
