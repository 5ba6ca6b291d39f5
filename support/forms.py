"""The one form of the support pages: which email to send the links to."""

from django import forms


class LinksRequestForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        label="Your email address",
        help_text="The address you registered, were registered with, or joined a waitlist with.",
        error_messages={"required": "Enter your email address.", "invalid": "Enter an email address such as name@school.org."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "inputmode": "email"})
