from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms
from django.conf import settings

from .models import Order, Seat


class RegistrationForm(forms.Form):
    buyer_name = forms.CharField(label="Your full name", max_length=200)
    buyer_email = forms.EmailField(label="Your email", help_text="Your receipt and order link go here.")
    organisation = forms.CharField(label="School or district", max_length=200)
    role = forms.ChoiceField(label="Your role", choices=[("", "Choose one…")] + Order.Role.choices)
    seat_count = forms.IntegerField(
        label="Number of seats",
        min_value=1,
        initial=1,
        help_text="$100 each for 5 or more seats.",
        error_messages={"invalid": "Enter a whole number of seats, such as 1 or 5."},
    )
    buyer_attends = forms.BooleanField(
        label="I will attend myself (one of the seats is mine)", required=False, initial=True
    )
    needs_captions = forms.BooleanField(label="I would like live captions", required=False)
    needs_interpreter = forms.BooleanField(label="I need an interpreter", required=False)
    access_note = forms.CharField(label="Other access needs (seen only by staff)", max_length=500, required=False)

    def __init__(self, *args, seats_left: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.seats_left = seats_left
        limit = settings.MAX_SEATS_PER_ORDER if seats_left is None else min(settings.MAX_SEATS_PER_ORDER, seats_left)
        self.fields["seat_count"].max_value = limit
        self.fields["seat_count"].widget.attrs.update({"max": max(limit, 1), "min": 1, "inputmode": "numeric"})
        self.fields["buyer_name"].widget.attrs["autocomplete"] = "name"
        self.fields["buyer_email"].widget.attrs["autocomplete"] = "email"
        self.fields["organisation"].widget.attrs["autocomplete"] = "organization"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Div(Field("buyer_name", wrapper_class="col-md-6"), Field("buyer_email", wrapper_class="col-md-6"), css_class="row"),
            Div(Field("organisation", wrapper_class="col-md-6"), Field("role", wrapper_class="col-md-6"), css_class="row"),
        )

    def clean_buyer_name(self):
        return self.cleaned_data["buyer_name"].strip()

    def clean_organisation(self):
        return self.cleaned_data["organisation"].strip()

    def clean_seat_count(self):
        count = self.cleaned_data["seat_count"]
        if self.seats_left is not None and count > self.seats_left:
            raise forms.ValidationError(
                f"Only {self.seats_left} seat{'s' if self.seats_left != 1 else ''} left. "
                f"Please choose {self.seats_left} or fewer."
                if self.seats_left > 0
                else "Sorry, this workshop is sold out."
            )
        if count > settings.MAX_SEATS_PER_ORDER:
            raise forms.ValidationError(
                f"One order can hold up to {settings.MAX_SEATS_PER_ORDER} seats. For more, place a second order or contact us."
            )
        return count


class AttendeeForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, required=False)
    email = forms.EmailField(label="Email", required=False)
    needs_captions = forms.BooleanField(label="Live captions", required=False)
    needs_interpreter = forms.BooleanField(label="Interpreter", required=False)
    access_note = forms.CharField(label="Other access needs", max_length=500, required=False)

    def clean(self):
        data = super().clean()
        name, email = (data.get("name") or "").strip(), data.get("email") or ""
        if name and not email and "email" not in self.errors:
            self.add_error("email", "Add their email so we can send them their link, or leave both blank to name them later.")
        if email and not name:
            self.add_error("name", "Add their name, or leave both blank to name them later.")
        data["name"] = name
        return data

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(data.get(k) for k in ("name", "email", "needs_captions", "needs_interpreter", "access_note"))


AttendeeFormSet = forms.formset_factory(
    AttendeeForm, extra=0, max_num=settings.MAX_SEATS_PER_ORDER, absolute_max=settings.MAX_SEATS_PER_ORDER, validate_max=True
)


class SeatChangeForm(forms.Form):
    """A team lead names a seat, corrects its attendee's details, or gives it to someone else."""

    CORRECT = "correct"
    NEW_PERSON = "new_person"

    name = forms.CharField(label="Attendee's name", max_length=200)
    email = forms.EmailField(label="Attendee's email")
    change = forms.ChoiceField(
        label="What kind of change is this?",
        choices=[
            (CORRECT, "Correct this attendee's name or email (same person, pre-work progress kept)"),
            (NEW_PERSON, "Give this seat to someone else (they start the pre-work afresh)"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether this is the same person or someone new."},
    )

    def __init__(self, *args, seat: Seat, **kwargs):
        kwargs.setdefault("prefix", f"seat-{seat.position}")
        kwargs.setdefault("initial", {"name": seat.attendee_name, "email": seat.attendee_email})
        super().__init__(*args, **kwargs)
        self.seat = seat
        self.fields["name"].widget.attrs["autocomplete"] = "off"
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        if not seat.attendee_email:
            del self.fields["change"]  # naming an empty seat is neither a correction nor a hand-over
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    @property
    def is_new_person(self) -> bool:
        return self.cleaned_data.get("change") == self.NEW_PERSON


class PreworkMarkForm(forms.Form):
    """The "mark done" / "undo" button on one pre-work module."""

    done = forms.TypedChoiceField(choices=[("1", "Done"), ("0", "Not done")], coerce=lambda v: v == "1")


class SeatAlertForm(forms.Form):
    email = forms.EmailField(label="Your email")
