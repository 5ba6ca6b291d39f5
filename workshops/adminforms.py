"""Admin form fields staff can fill without knowing how data is stored: dollars, time zones, local times."""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.db import models
from django.utils import timezone

from . import schedule
from .models import DEFAULT_TIME_ZONE

MAX_ROW_ID = 2**63 - 1  # the largest id a database column can hold (PostgreSQL bigint, SQLite integer)


def row_id(raw: str) -> int | None:
    """An id typed into an admin address (?workshop=…), or None when it cannot be one: "²" passes isdigit(), and
    a 20-digit number overflows SQLite."""
    if raw.isascii() and raw.isdigit() and int(raw) <= MAX_ROW_ID:
        return int(raw)
    return None


def zone_label(zone, when: datetime | None = None) -> str:
    """'Pacific Time (PDT)': the zone's readable name with its abbreviation at `when` (default now)."""
    return schedule.zone_label(str(zone), when or timezone.now())


def zone_note(zone) -> str:
    """The one sentence a change form shows about times, instead of a warning beside every field."""
    return (
        f"Times on this page are {schedule.zone_name(str(zone))} ({zone}), the time zone this is set in; "
        "type them as they will be on the day."
    )


class TimeZoneChoiceField(forms.ChoiceField):
    """A list of real IANA zones, the organisation's usual ones first, instead of free text."""

    def __init__(self, **kwargs):
        kwargs.pop("max_length", None)
        kwargs.pop("empty_value", None)
        super().__init__(choices=schedule.time_zone_choices, **kwargs)


DOLLARS = re.compile(r"^\$?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")


class DollarsInput(forms.TextInput):
    """A text box with a '$' in front; the value is shown as dollars and cents."""

    template_name = "workshops/widgets/dollars.html"

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "size": "10", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if value in (None, ""):
            return ""
        if isinstance(value, int):
            return f"{value // 100}.{value % 100:02d}"
        return str(value)


# No price, code or course fee staff type is anywhere near this; "12000" typed for $120 by habit is.
STAFF_AMOUNT_LIMIT_CENTS = 10_000_00


def _dollars(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


class DollarsField(forms.Field):
    """Typed in dollars ('120', '$1,200.50'), cleaned to integer cents (12000, 120050)."""

    widget = DollarsInput
    default_error_messages = {
        "invalid": "Enter an amount in dollars, such as 120 or 99.50.",
        "min_value": "Enter at least %(limit)s.",
        "max_value": "That is %(amount)s. Amounts are typed in dollars (120 for $120.00), not in cents; "
        "anything over %(limit)s is refused here.",
    }

    def __init__(self, *, min_cents: int = 0, max_cents: int = STAFF_AMOUNT_LIMIT_CENTS, **kwargs):
        for unused in ("max_length", "min_value", "max_value", "step_size", "empty_value"):
            kwargs.pop(unused, None)
        self.min_cents, self.max_cents = min_cents, max_cents
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value

    def to_python(self, value):
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not DOLLARS.match(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            amount = Decimal(text.lstrip("$").strip().replace(",", ""))
        except InvalidOperation as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        return int(amount * 100)

    def validate(self, value):
        super().validate(value)
        if value is not None and value < self.min_cents:
            limit = _dollars(self.min_cents)
            raise forms.ValidationError(self.error_messages["min_value"], code="min_value", params={"limit": limit})
        if value is not None and value > self.max_cents:
            raise forms.ValidationError(
                self.error_messages["max_value"], code="max_value",
                params={"amount": _dollars(value), "limit": _dollars(self.max_cents)},
            )


class LocalDateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time box, read and typed in the zone active for the page, with its name beside it."""

    template_name = "workshops/widgets/local_datetime.html"
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        zone = timezone.get_current_timezone()
        when = value if isinstance(value, datetime) else None
        if when is not None and timezone.is_naive(when):  # forms hand the value over already in the page's zone
            when = timezone.make_aware(when, zone)
        # The abbreviation of that moment (PDT in May, PST in December); the page names the zone once above.
        context["widget"]["zone_abbreviation"] = (
            timezone.localtime(when, zone).strftime("%Z") if when else schedule.zone_name(str(zone))
        )
        return context


class LocalDateInput(forms.DateInput):
    """A plain date box: no calendar pop-up, so no 'hours ahead of server time' warning beside it."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _money_label(db_field) -> str:
    words = db_field.name.removesuffix("_cents").replace("_", " ")
    return words[:1].upper() + words[1:]


class StaffFormsMixin:
    """For ModelAdmins and inlines: `*_cents` fields in dollars, `time_zone` as a choice of zones,
    dates and times as plain boxes in the page's zone (see LocalTimeZoneMixin).

    `money_help` maps a field name to the help text shown under its dollar box.
    """

    money_help: dict[str, str] = {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.IntegerField) and db_field.name.endswith("_cents") and db_field.editable:
            return DollarsField(
                required=not db_field.blank,
                label=_money_label(db_field),
                help_text=self.money_help.get(db_field.name, ""),
            )
        if db_field.name == "time_zone" and isinstance(db_field, models.CharField):
            return TimeZoneChoiceField(
                required=not db_field.blank,
                label=db_field.verbose_name.capitalize(),
                initial=db_field.default if db_field.has_default() else DEFAULT_TIME_ZONE,
                help_text=db_field.help_text,
                validators=db_field.validators,
            )
        if isinstance(db_field, models.DateTimeField) and db_field.editable:
            kwargs["form_class"] = forms.DateTimeField
            kwargs["widget"] = LocalDateTimeInput
            return db_field.formfield(**kwargs)
        if isinstance(db_field, models.DateField) and db_field.editable:
            kwargs["widget"] = LocalDateInput
            return db_field.formfield(**kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class RowLabelsMixin:
    """For tabular inlines: each box in a row gets an accessible name ("Starts at, session 2"), since the
    table's column headings are not labels for screen readers."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        noun = self.model._meta.verbose_name

        class LabelledFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                row = f"{noun} {index + 1}" if index is not None else f"new {noun}"
                for name, field in form.fields.items():
                    label = "Delete" if name == "DELETE" else str(field.label or name.replace("_", " ").capitalize())
                    field.widget.attrs["aria-label"] = f"{label}, {row}"

        LabelledFormSet.__name__ = formset.__name__
        return LabelledFormSet
