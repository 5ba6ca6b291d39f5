"""Forms for registering, paying by invoice, naming seats, adding seats, an attendee's time zone and staff's code batches;
they validate, never act."""

from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings

from registrations.services.invoices import BillingDetails
from workshops.adminforms import DollarsField, LocalDateTimeInput
from workshops.schedule import time_zone_choices
from workshops.templatetags.workshop_tags import one_line, usd

from . import seat_lists
from .form_copies import QuickCopyForm
from .form_layouts import lazy_helper, registration_layout
from .models import Order, Seat


ROLE_CHOICES = [("", "Choose one…")] + Order.Role.choices


class RegistrationForm(QuickCopyForm):
    buyer_name = forms.CharField(label="Your full name", max_length=200)
    buyer_email = forms.EmailField(max_length=254, label="Your email", help_text="Your receipt and order link go here.")
    organisation = forms.CharField(label="School or district", max_length=200)
    # A callable: Django deep-copies a list of choices, tuple by tuple, for every form (registrations/form_copies.py).
    role = forms.ChoiceField(label="Your role", choices=lambda: ROLE_CHOICES)
    seat_count = forms.IntegerField(
        label="Number of seats",
        min_value=1,
        initial=1,
        error_messages={"invalid": "Enter a whole number of seats, such as 1 or 5.", "min_value": "Choose at least 1 seat."},
    )
    buyer_attends = forms.BooleanField(
        label="I will attend myself (one of the seats is mine)", required=False, initial=True
    )
    needs_captions = forms.BooleanField(label="I would like live captions", required=False)
    needs_interpreter = forms.BooleanField(label="I need an interpreter", required=False)
    access_note = forms.CharField(label="Other access needs (seen only by staff)", max_length=500, required=False)
    voucher_code = forms.CharField(label="Discount or scholarship code (optional)", max_length=40, required=False)
    quote_reference = forms.CharField(required=False, max_length=16, widget=forms.HiddenInput)
    # Filled by the page's script from the browser, so emails can show the buyer's own time.
    time_zone = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, seats_left: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.show_seats_left(seats_left)
        self.fields["buyer_name"].widget.attrs["autocomplete"] = "name"
        self.fields["buyer_email"].widget.attrs["autocomplete"] = "email"
        self.fields["organisation"].widget.attrs["autocomplete"] = "organization"

    helper = lazy_helper(registration_layout)

    def show_seats_left(self, seats_left: int | None) -> None:
        """Limit the seat count to the seats left (None: not counted yet, so only the per-order limit).

        Only fewer seats left than one order may hold change anything: with more, a count beyond them is beyond
        the per-order limit too, and that is what the buyer is told. Forgetting the exact number then keeps the
        blank form's rendering (cached per seats-left figure, views/registration.py) one copy instead of a new
        one after every registration.
        """
        if seats_left is not None and seats_left >= settings.MAX_SEATS_PER_ORDER:
            seats_left = None
        self.seats_left = seats_left
        limit = settings.MAX_SEATS_PER_ORDER if seats_left is None else min(settings.MAX_SEATS_PER_ORDER, seats_left)
        self.fields["seat_count"].max_value = limit
        self.fields["seat_count"].widget.attrs.update({
            "max": max(limit, 1), "min": 1, "inputmode": "numeric",
            # The page's script checks what is typed against these, with the same messages as clean_seat_count.
            "data-seats-left": "" if seats_left is None else seats_left,
            "data-max-per-order": settings.MAX_SEATS_PER_ORDER,
            "aria-describedby": "seat-count-live",
        })

    def seat_count_problem(self, count: int | None) -> str:
        """What is wrong with this seat count against the seats left and the per-order limit ("" if nothing)."""
        if count is None:
            return ""
        try:
            self.clean_seat_count_value(count)
        except forms.ValidationError as exc:
            return exc.messages[0]
        return ""

    def flag_seat_count(self, typed: str) -> str:
        """On "Update total" (no JavaScript): the problem with the seat count as typed, beside the field, only."""
        try:
            count = self.fields["seat_count"].to_python(typed)  # as a posted form reads it: "3.0" is 3
        except forms.ValidationError as exc:
            count, problem = None, exc.messages[0]
        else:
            problem = self.seat_count_problem(count)
        if problem:
            self._errors = forms.utils.ErrorDict({"seat_count": self.error_class([problem])})
        return problem

    def show_team_price(self, team_tier) -> None:
        """The seat count's hint, from the workshop's own prices (staff change them in admin)."""
        if team_tier is not None:
            self.fields["seat_count"].help_text = (
                f"{usd(team_tier.unit_price_cents)} each for {team_tier.min_seats} or more seats."
            )

    def clean_buyer_name(self):
        return one_line(self.cleaned_data["buyer_name"])

    def clean_organisation(self):
        return one_line(self.cleaned_data["organisation"])

    def clean_voucher_code(self):
        return self.cleaned_data["voucher_code"].strip().upper()

    def clean_seat_count(self):
        return self.clean_seat_count_value(self.cleaned_data["seat_count"])

    def clean_seat_count_value(self, count: int) -> int:
        if count < 1:
            raise forms.ValidationError(self.fields["seat_count"].error_messages["min_value"])
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


class AttendeeForm(QuickCopyForm):
    name = forms.CharField(label="Name", max_length=200, required=False)
    email = forms.EmailField(max_length=254, label="Email", required=False)
    needs_captions = forms.BooleanField(label="Live captions", required=False)
    needs_interpreter = forms.BooleanField(label="Interpreter", required=False)
    access_note = forms.CharField(label="Other access needs", max_length=500, required=False)

    def clean(self):
        data = super().clean()
        name, email = one_line(data.get("name") or ""), data.get("email") or ""
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
    email = forms.EmailField(max_length=254, label="Attendee's email")
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


class SeatListForm(forms.Form):
    """A team lead names many seats at once: "Name, email" lines pasted, or a CSV file."""

    MAX_UPLOAD_BYTES = 200_000

    people = forms.CharField(
        label="One attendee per line: name, then email",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"}),
        help_text="For example “Ana Diaz, ana@lincoln.org”. Rows copied from a spreadsheet work too.",
    )
    csv_file = forms.FileField(
        label="Or upload a CSV file", required=False,
        help_text="Columns for the name (or first and last name) and the email; a header row is fine.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "list")
        super().__init__(*args, **kwargs)
        self.lines: list[seat_lists.SeatLine] = []
        self.fields["csv_file"].widget.attrs["accept"] = ".csv,text/csv"

    def clean(self):
        data = super().clean()
        upload = data.get("csv_file")
        if upload:
            if upload.size > self.MAX_UPLOAD_BYTES:
                raise forms.ValidationError("That file is too large for a list of attendees; upload a CSV under 200 KB.")
            self.lines = seat_lists.parse_csv(seat_lists.decode_upload(upload.read()))
            # What was read comes back as lines, so anything to fix is fixed right there.
            self.data = self.data.copy()
            self.data[self.add_prefix("people")] = "\n".join(f"{line.name}, {line.email}" if not line.error else line.text for line in self.lines)
        else:
            self.lines = seat_lists.parse_pasted(data.get("people") or "")
        if not self.lines:
            raise forms.ValidationError("Paste at least one “Name, email” line, or choose a CSV file.")
        if any(line.error for line in self.lines):
            raise forms.ValidationError("Some lines need a fix before any seat is named; nothing was saved yet.")
        return data

    def mark_errors(self, row_errors: dict[int, str]) -> None:
        """Errors the service found (emails already seated, too many people), shown on their lines."""
        for index, message in row_errors.items():
            self.lines[index].error = message

    @property
    def people_list(self) -> list[tuple[str, str]]:
        return [(line.name, line.email) for line in self.lines]

    @property
    def error_lines(self) -> list[seat_lists.SeatLine]:
        return [line for line in self.lines if line.error]


class PreworkMarkForm(forms.Form):
    """The "mark done" / "undo" button on one pre-work module."""

    done = forms.TypedChoiceField(choices=[("1", "Done"), ("0", "Not done")], coerce=lambda v: v == "1")


class SeatTimeZoneForm(forms.Form):
    """An attendee's own time zone on their seat page: the common zones first, then every IANA zone."""

    time_zone = forms.ChoiceField(
        label="Your time zone",
        required=False,
        error_messages={"invalid_choice": "That is not a time zone we know. Choose yours from the list."},
    )

    def __init__(self, *args, workshop_zone_name: str = "the workshop's time zone", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", f"Not set: show {workshop_zone_name} only")] + time_zone_choices()
        self.fields["time_zone"].widget.attrs.update(
            {"data-browser-zone": "", "class": "form-select", "aria-describedby": "time-zone-help"}
        )

    def add_error(self, field, error):
        super().add_error(field, error)
        # The message sits next to the select and is read with it.
        self.fields["time_zone"].widget.attrs.update(
            {"class": "form-select is-invalid", "aria-invalid": "true", "aria-describedby": "time-zone-error time-zone-help"}
        )


class SeatAlertForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Your email")


class VoucherBatchForm(forms.Form):
    """Staff generate scholarship codes in admin, each covering one seat."""

    count = forms.IntegerField(label="How many codes", min_value=1, max_value=500, initial=10)
    prefix = forms.CharField(label="Prefix", max_length=12, required=False, initial="SCHOLAR",
                             help_text="Letters and digits only, e.g. SCHOLAR → SCHOLAR-7KQ2M9XHTA.")
    label = forms.CharField(label="Label for staff", max_length=200, initial="Scholarships")
    kind = forms.ChoiceField(choices=[("percent", "Percent off"), ("fixed", "Fixed amount off")], initial="percent")
    percent_off = forms.IntegerField(label="Percent off", min_value=1, max_value=100, required=False, initial=100)
    amount_off_cents = DollarsField(label="Amount off", required=False, min_cents=1,
                                    help_text="In dollars, for fixed-amount codes, e.g. 50.")
    applies_to = forms.ChoiceField(choices=[("order", "The whole order"), ("seat", "Each seat")], initial="seat")
    workshop = forms.ModelChoiceField(queryset=None, required=False, help_text="Blank: any workshop.")
    valid_until = forms.DateTimeField(required=False, widget=LocalDateTimeInput,
                                      help_text="In the organisation's time zone (Pacific). Blank: no end.")

    def __init__(self, *args, **kwargs):
        from workshops.models import Workshop

        super().__init__(*args, **kwargs)
        self.fields["workshop"].queryset = Workshop.objects.order_by("-created_at")

    def clean(self):
        data = super().clean()
        if data.get("kind") == "percent" and not data.get("percent_off"):
            self.add_error("percent_off", "Give a percentage from 1 to 100.")
        if data.get("kind") == "fixed" and not data.get("amount_off_cents"):
            self.add_error("amount_off_cents", "Give the amount off, in dollars.")
        return data


COUNTRY_CODE_ERROR = "Use the two-letter country code, such as US or CA."


class PaymentForm(QuickCopyForm):
    """Card now (Stripe Checkout) or an invoice to the organisation, with its billing details."""

    CARD = Order.PaymentMethod.CARD
    INVOICE = Order.PaymentMethod.INVOICE
    BILLING_FIELDS = ("billing_name", "billing_email", "billing_line1", "billing_city", "billing_state", "billing_postal_code")

    payment_method = forms.ChoiceField(
        label="How will you pay?",
        choices=[(CARD, "Pay by card now"), (INVOICE, "Invoice my organisation")],
        initial=CARD,
        required=False,  # card unless the buyer picks the invoice
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose card or invoice."},
    )
    billing_name = forms.CharField(label="Billing contact name", max_length=200, required=False)
    billing_email = forms.EmailField(max_length=254, label="Billing contact email", required=False, help_text="The invoice is emailed here.")
    billing_line1 = forms.CharField(label="Address line 1", max_length=200, required=False)
    billing_line2 = forms.CharField(label="Address line 2 (optional)", max_length=200, required=False)
    billing_city = forms.CharField(label="City", max_length=100, required=False)
    billing_state = forms.CharField(label="State", max_length=100, required=False)
    billing_postal_code = forms.CharField(label="ZIP or postal code", max_length=20, required=False)
    billing_country = forms.CharField(
        label="Country", max_length=2, min_length=2, required=False, initial="US",
        help_text="Two-letter code, such as US.",
        error_messages={"min_length": COUNTRY_CODE_ERROR, "max_length": COUNTRY_CODE_ERROR},
    )
    po_number = forms.CharField(
        label="Purchase-order number (optional)", max_length=100, required=False,
        help_text="Printed on the invoice and receipt. You can add it later from your order page.",
    )

    MISSING = {
        "billing_name": "Enter the name of the person who pays the invoice.",
        "billing_email": "Enter the email address the invoice goes to.",
        "billing_line1": "Enter the organisation's street address.",
        "billing_city": "Enter the city.",
        "billing_state": "Enter the state.",
        "billing_postal_code": "Enter the ZIP or postal code.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, autocomplete in [
            ("billing_name", "billing name"),
            ("billing_email", "billing email"),
            ("billing_line1", "billing address-line1"),
            ("billing_line2", "billing address-line2"),
            ("billing_city", "billing address-level2"),
            ("billing_state", "billing address-level1"),
            ("billing_postal_code", "billing postal-code"),
            ("billing_country", "billing country"),
        ]:
            self.fields[name].widget.attrs["autocomplete"] = autocomplete
        self.fields["billing_postal_code"].widget.attrs["inputmode"] = "text"

    helper = lazy_helper()

    def clean_payment_method(self):
        return self.cleaned_data["payment_method"] or self.CARD

    def clean_billing_country(self):
        country = self.cleaned_data["billing_country"].strip().upper() or "US"
        if not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise forms.ValidationError(COUNTRY_CODE_ERROR)
        return country

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):
            if isinstance(value, str):
                data[name] = value.strip()
        if data.get("payment_method") == self.INVOICE:
            for name in self.BILLING_FIELDS:
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, self.MISSING[name])
        return data

    @property
    def wants_invoice(self) -> bool:
        return self.cleaned_data.get("payment_method") == self.INVOICE

    def billing_details(self):

        data = self.cleaned_data
        return BillingDetails(
            name=data["billing_name"],
            email=data["billing_email"],
            line1=data["billing_line1"],
            line2=data["billing_line2"],
            city=data["billing_city"],
            state=data["billing_state"],
            postal_code=data["billing_postal_code"],
            country=data["billing_country"],
            po_number=data["po_number"],
        )


class PONumberForm(forms.Form):
    po_number = forms.CharField(
        label="Purchase-order number", max_length=100, required=False,
        help_text="Shown on your receipt. Leave empty to remove it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["po_number"].widget.attrs["autocomplete"] = "off"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_po_number(self):
        return self.cleaned_data["po_number"].strip()


class AddSeatsForm(PaymentForm):
    """The lead of a paid order adds seats, paying the difference by card or invoice."""

    extra_seats = forms.IntegerField(
        label="Seats to add",
        min_value=1,
        initial=1,
        error_messages={"invalid": "Enter a whole number of seats, such as 1 or 2.", "required": "Enter how many seats to add."},
    )
    field_order = ["extra_seats", "payment_method"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "grow")
        super().__init__(*args, **kwargs)
        self.fields["extra_seats"].widget.attrs.update({"min": 1, "inputmode": "numeric"})  # limits: the service's
        self.fields["po_number"].help_text = "Printed on the invoice for the added seats."  # this is the order page
