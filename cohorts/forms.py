"""The waitlist form: join as a person or a team, or update an entry from its private page."""

from crispy_forms.helper import FormHelper
from django import forms

from .models import MAX_TEAM_SIZE, WaitlistEntry
from .services import EntryDetails
from .services.waitlist import FROZEN_STATUSES


class WaitlistForm(forms.Form):
    """Joining the waitlist, and later changing the same details from the status page."""

    name = forms.CharField(label="Your full name", max_length=200)
    email = forms.EmailField(max_length=254, label="Your email", help_text="We send the link to your waitlist page here.")
    role = forms.ChoiceField(label="Your role", choices=[("", "Choose one…")] + WaitlistEntry.Role.choices)
    organisation = forms.CharField(
        label="School, district or organisation", max_length=200, required=False, help_text="Needed for a team."
    )
    kind = forms.ChoiceField(
        label="Who is joining?",
        choices=[
            (WaitlistEntry.Kind.INDIVIDUAL, "Just me"),
            (WaitlistEntry.Kind.TEAM, "A team from my school or district"),
        ],
        initial=WaitlistEntry.Kind.INDIVIDUAL,
        widget=forms.RadioSelect,
    )
    team_size = forms.IntegerField(
        label="Team size (people, including you)",
        required=False,
        min_value=1,
        max_value=MAX_TEAM_SIZE,
        help_text="Only for a team.",
        error_messages={
            "invalid": "Enter a whole number of people, such as 4.",
            "min_value": f"Enter a number of people from 1 to {MAX_TEAM_SIZE}.",
            "max_value": f"For more than {MAX_TEAM_SIZE} people, please write to us instead.",
        },
    )
    note = forms.CharField(
        label="Anything we should know? (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, entry: WaitlistEntry | None = None, **kwargs):
        """`entry`: the private page's own entry, whose details fill the form."""
        if entry is not None:
            kwargs.setdefault("initial", self.initial_for(entry))
        super().__init__(*args, **kwargs)
        if entry is not None:
            self.fields["email"].help_text = (
                "If you change it, we email a confirmation link to the new address; it changes when that link is opened."
            )
            if entry.status in FROZEN_STATUSES:
                # Disabled fields keep the entry's values whatever is posted.
                for name in ("kind", "team_size"):
                    self.fields[name].disabled = True
                self.fields["team_size"].help_text = "Fixed once you are invited. To change it, please write to us."
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["organisation"].widget.attrs["autocomplete"] = "organization"
        self.fields["team_size"].widget.attrs.update({"min": 1, "max": MAX_TEAM_SIZE, "inputmode": "numeric"})
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    @classmethod
    def initial_for(cls, entry: WaitlistEntry) -> dict:
        return {
            "name": entry.name,
            "email": entry.email,
            "role": entry.role,
            "organisation": entry.organisation,
            "kind": entry.kind,
            "team_size": entry.team_size if entry.is_team else None,
            "note": entry.note,
        }

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("This field is required.")
        return name

    def clean(self):
        data = super().clean()
        if data.get("kind") == WaitlistEntry.Kind.TEAM:
            size = data.get("team_size")
            if size is None and "team_size" not in self.errors:
                self.add_error("team_size", "How many people are in your team, including you?")
            elif size == 1:
                self.add_error("team_size", "A team has at least 2 people. For one person, choose “Just me”.")
            if not (data.get("organisation") or "").strip() and "organisation" not in self.errors:
                self.add_error("organisation", "Tell us which school, district or organisation the team is from.")
        return data

    def details(self) -> EntryDetails:
        data = self.cleaned_data
        is_team = data["kind"] == WaitlistEntry.Kind.TEAM
        return EntryDetails(
            name=data["name"],
            email=data["email"],
            role=data["role"],
            organisation=data["organisation"],
            kind=data["kind"],
            team_size=data["team_size"] if is_team else 1,
            note=data["note"],
        )
