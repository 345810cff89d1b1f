"""The POST forms of a page, read as a browser would submit them (for the load test's saves)."""

from __future__ import annotations

from collections import defaultdict
from html.parser import HTMLParser


class FormParser(HTMLParser):
    """The fields of the POST forms of a page, with the values a browser would submit as is."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    @staticmethod
    def _input(form: dict, name: str, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        if kind in ("submit", "button", "image", "file"):
            return
        if kind in ("radio", "checkbox"):
            if kind == "radio":
                form["radios"][name].append(a.get("value", "on"))
            if "checked" in a:
                form["fields"][name] = a.get("value", "on")
            return
        form["fields"][name] = a.get("value", "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = {"method": a.get("method", "get").lower(), "action": a.get("action", ""), "fields": {},
                          "radios": defaultdict(list)}  # fmt: skip
            self.forms.append(self._form)
        if self._form is None or ("name" not in a and tag != "option"):
            return
        name = a.get("name", "")
        if tag == "input":
            self._input(self._form, name, a)
        elif tag == "select":
            self._select, self._select_first = name, None
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value", "")
                self._form["fields"].setdefault(self._select, self._select_first)
            if "selected" in a:
                self._form["fields"][self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self._form["fields"][name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def post_form(html: str) -> dict | None:
    """The page's main POST form (the last one: the sign-out form in the header comes first)."""
    parser = FormParser()
    parser.feed(html)
    forms = [f for f in parser.forms if f["method"] == "post" and "csrfmiddlewaretoken" in f["fields"]]
    forms = [f for f in forms if "logout" not in f["action"]]
    return forms[-1] if forms else None
