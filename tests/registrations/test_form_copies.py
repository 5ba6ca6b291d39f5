"""QuickCopyForm: each form instance still gets fields of its own, equal to the ones Django's copy would give."""

import copy

import pytest
from django import forms

from registrations.affinity_forms import AffinityChoiceForm
from registrations.form_copies import QuickCopyForm, quick_copy_class
from registrations.forms import AttendeeForm, PaymentForm, RegistrationForm
from workshops.models import AffinityGroup

QUICK_FORMS = [RegistrationForm, AttendeeForm, PaymentForm, AffinityChoiceForm]


def _djangos_copy(obj):
    """copy.copy as it goes for a class without __copy__ (the pickle protocol's way)."""
    return copy._reconstruct(obj, None, *obj.__reduce_ex__(4))


def _fields(form_class):
    return [(form_class.__name__, name, field) for name, field in form_class.base_fields.items()]


ALL_FIELDS = [item for form_class in QUICK_FORMS for item in _fields(form_class)]


@pytest.mark.parametrize(("form", "name", "field"), ALL_FIELDS, ids=[f"{f}.{n}" for f, n, _ in ALL_FIELDS])
def test_a_fields_copy_is_djangos_copy(form, name, field):
    for original in (field, field.widget):
        quick, djangos = copy.copy(original), _djangos_copy(original)
        assert type(quick) is type(djangos) is type(original)
        assert vars(quick) == vars(djangos) and quick is not original


@pytest.mark.parametrize("form_class", QUICK_FORMS)
def test_a_form_gets_fields_of_its_own_as_djangos_deep_copy_gives_them(form_class):
    """What BaseForm.__init__ does with base_fields: a dict of the same names in the same order, each field and
    widget a new one of the same kind, with its own attrs, error messages, validators (and choices)."""
    copied = copy.deepcopy(form_class.base_fields)
    assert type(copied) is dict and list(copied) == list(form_class.base_fields)
    for name, field in form_class.base_fields.items():
        mine = copied[name]
        assert type(mine) is type(field) and mine is not field and type(mine).__name__ == type(field).__mro__[1].__name__
        assert type(mine.widget) is type(field.widget) and mine.widget is not field.widget
        assert vars(mine.widget) == vars(field.widget) and mine.widget.attrs is not field.widget.attrs
        assert mine.error_messages == field.error_messages and mine.error_messages is not field.error_messages
        assert mine.validators == field.validators and mine.validators is not field.validators
        if isinstance(field, forms.ChoiceField) and isinstance(field._choices, list):
            assert mine._choices == field._choices and mine._choices is not field._choices


def test_what_one_form_changes_in_its_fields_no_other_form_sees():
    limited = RegistrationForm(seats_left=3)
    limited.fields["buyer_name"].widget.attrs["data-x"] = "1"
    fresh = RegistrationForm()
    assert limited.fields["seat_count"].max_value == 3 and limited.fields["seat_count"].widget.attrs["max"] == 3
    assert fresh.fields["seat_count"].max_value != 3 and "data-x" not in fresh.fields["buyer_name"].widget.attrs
    assert "data-x" not in RegistrationForm.base_fields["buyer_name"].widget.attrs


def test_one_workshops_affinity_groups_are_not_offered_on_anothers_form():
    first = AffinityChoiceForm(groups=[AffinityGroup(pk=1, label="Group one")])
    second = AffinityChoiceForm(groups=[AffinityGroup(pk=2, label="Group two")])
    assert [label for _, label in first.fields["group"].choices][-1] == "Group one"
    assert "Group one" not in [label for _, label in second.fields["group"].choices]
    assert "Group one" not in [label for _, label in second.fields["group"].widget.choices]


def test_a_class_that_copies_itself_its_own_way_is_left_as_it_is():
    class OwnState(forms.CharField):
        def __getstate__(self):
            return dict(vars(self))

    class Slotted(forms.TextInput):
        __slots__ = ()

    assert quick_copy_class(OwnState) is OwnState and quick_copy_class(Slotted) is Slotted
    assert quick_copy_class(forms.CharField) is not forms.CharField


def test_a_form_built_on_a_quick_copy_form_validates_as_djangos_does():
    class Plain(forms.Form):
        email = forms.EmailField(max_length=20)
        role = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])

    class Quick(QuickCopyForm):
        email = forms.EmailField(max_length=20)
        role = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])

    for data in ({"email": "x@y.org", "role": "a"}, {"email": "not an email", "role": "c"}, {}):
        plain, quick = Plain(data), Quick(data)
        assert plain.is_valid() == quick.is_valid()
        assert plain.errors == quick.errors
        assert str(plain) == str(quick)
