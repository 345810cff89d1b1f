"""The form renderer: Django's own form templates through Jinja2, every other one through Django's.

Widgets, error lists and field wrappers are rendered for every field of every form shown (the
patient list's filters, the ALSFRS-R form's 67 radio buttons), and Django's template language
spends ~50 µs on each of their small templates: most of a form page's rendering (issue 18,
item 3). Django ships the same templates for Jinja2 (django/forms/jinja2), which renders them
several times faster with the same markup. A template that only exists for Django's engine (the
admin's widget wrappers, a package's own widgets) is still found there.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist


class FormRenderer(BaseRenderer):
    def __init__(self) -> None:
        self.jinja2 = Jinja2()
        self.django = DjangoTemplates()

    def get_template(self, template_name: str) -> Any:
        try:
            return self.jinja2.get_template(template_name)
        except TemplateDoesNotExist:
            return self.django.get_template(template_name)
