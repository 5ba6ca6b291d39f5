"""The attendee's affinity-group form (seat page and registration) and staff's breakout-room move form."""

from django import forms

from registrations.services.affinity import affinity_retention_days
from workshops.models import FORMULA_PREFIXES, AffinityGroup

from .form_copies import QuickCopyForm

NO_GROUP = ""


class AffinityChoiceForm(QuickCopyForm):
    """A group from the workshop's own list, or none, and the email of the attendee's Zoom account.

    With `group_open=False` (after the cut-off) only the Zoom email can change.
    """

    group = forms.ChoiceField(label="Your affinity group", required=False, widget=forms.RadioSelect)
    zoom_email = forms.EmailField(
        label="Email of your Zoom account (optional)",
        required=False,
        max_length=254,  # the column's size: longer would be a database error, not a message
        help_text="Only if you sign in to Zoom with a different email than the one you registered with: "
        "Zoom puts you in your breakout room by the email of the account you are signed in with.",
    )

    CLOSED = (
        "Affinity-group choices have closed for this workshop. A facilitator will help you at the start of the "
        "session; you can still withdraw your choice."
    )

    def __init__(
        self, *args, groups: list[AffinityGroup], group_open: bool = True, current: AffinityGroup | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.groups = {str(g.pk): g for g in groups}
        self.group_open = group_open
        self.current = current
        self.retention_days = affinity_retention_days()  # the privacy note says when the choice is deleted
        if group_open:
            self.fields["group"].choices = [(NO_GROUP, "No group for now")] + [(k, g.label) for k, g in self.groups.items()]
        else:
            del self.fields["group"]
        self.fields["zoom_email"].widget.attrs.update({"autocomplete": "email", "inputmode": "email"})

    def clean_zoom_email(self):
        email = self.cleaned_data["zoom_email"].strip()
        if email.startswith(FORMULA_PREFIXES):
            raise forms.ValidationError("Enter the email address of your Zoom account, such as name@example.org.")
        return email

    def clean(self):
        data = super().clean()
        posted = self.data.get(self.add_prefix("group")) if self.is_bound else None
        current = str(self.current.pk) if self.current else NO_GROUP
        if not self.group_open and posted is not None and posted != current:
            raise forms.ValidationError(self.CLOSED)
        return data

    @property
    def group_options(self) -> list[tuple[str, AffinityGroup]]:
        return list(self.groups.items())

    @property
    def selected(self) -> str:
        """The radio to show as chosen: what was posted, else the saved choice."""
        if self.is_bound:
            return self.data.get(self.add_prefix("group"), NO_GROUP)
        value = self.initial.get("group")
        return str(value) if value else NO_GROUP

    def chosen_group(self) -> AffinityGroup | None:
        """The group to save: the one picked, or (after the cut-off) the one already saved."""
        if not self.group_open:
            return self.current
        return self.groups.get(self.cleaned_data.get("group") or NO_GROUP)


class BreakoutMoveForm(forms.Form):
    """Staff move one attendee: into a room ("room:<group id>:<n>"), out of this session, or back to their choice."""

    ABSENT = "absent"
    RESET = "reset"

    seat = forms.TypedChoiceField(label="Person", coerce=int, error_messages={"required": "Choose the person to move."})
    target = forms.ChoiceField(label="Move to", error_messages={"required": "Choose where to move them."})

    def __init__(self, *args, people: list[tuple[str, list[tuple[int, str]]]], targets: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seat"].choices = [("", "Choose a person…")] + [(where, options) for where, options in people]
        self.fields["target"].choices = (
            [("", "Choose a room…")]
            + targets
            + [(self.RESET, "Back to their own choice"), (self.ABSENT, "Not attending this session")]
        )

    def room(self) -> tuple[int, int] | None:
        """(group id, room number) for a move into a room, else None."""
        target = self.cleaned_data["target"]
        if not target.startswith("room:"):
            return None
        _, group_id, number = target.split(":")
        return int(group_id), int(number)
