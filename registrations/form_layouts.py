"""The crispy FormHelpers of the registration page's forms, built when a form is rendered rather than with every form:
checkout start validates its forms and renders none."""

from collections.abc import Callable

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django.utils.functional import cached_property


def lazy_helper(layout: Callable[[], Layout] | None = None) -> cached_property:
    """A form's `helper`: no <form> tag and no CSRF field (the page has them), and the layout given, if any."""

    def helper(form) -> FormHelper:
        built = FormHelper()
        built.form_tag = False
        built.disable_csrf = True
        if layout is not None:
            built.layout = layout()
        return built

    return cached_property(helper)


def registration_layout() -> Layout:
    return Layout(
        Div(Field("buyer_name", wrapper_class="col-md-6"), Field("buyer_email", wrapper_class="col-md-6"), css_class="row"),
        Div(Field("organisation", wrapper_class="col-md-6"), Field("role", wrapper_class="col-md-6"), css_class="row"),
    )
