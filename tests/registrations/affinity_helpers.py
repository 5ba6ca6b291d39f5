"""Workshops with affinity groups and attendees who chose one, for the affinity and breakout tests."""

from django.contrib.auth.models import Permission

from registrations.models import AffinityChoice, Seat
from tests.factories import OrderFactory
from workshops.models import AffinityFacilitator, AffinityGroup

LABELS = ("Black", "Multiracial", "White", "Not sure yet / talk to a facilitator")


def add_groups(workshop, labels=LABELS) -> dict[str, AffinityGroup]:
    return {
        label: AffinityGroup.objects.create(workshop=workshop, label=label, description=f"About {label}.", position=i)
        for i, label in enumerate(labels, start=1)
    }


def attendees(workshop, names, **order_fields) -> list[Seat]:
    """One paid order holding a named seat for each name (unique emails from the names)."""
    order = OrderFactory(workshop=workshop, seat_count=len(names), **order_fields)
    seats = list(order.seats.order_by("position"))
    for seat, name in zip(seats, names, strict=True):
        seat.attendee_name = name
        seat.attendee_email = f"{name.lower().replace(' ', '.')}@school.example"
    Seat.objects.bulk_update(seats, ["attendee_name", "attendee_email"])
    return seats


def choose(seat, group, zoom_email="") -> AffinityChoice:
    return AffinityChoice.objects.create(seat=seat, group=group, zoom_email=zoom_email)


def staff_user(django_user_model, username, *perms, **fields):
    user = django_user_model.objects.create_user(username, f"{username}@esl.example", "pw", is_staff=True, **fields)
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return user


def facilitate(user, group) -> AffinityFacilitator:
    return AffinityFacilitator.objects.create(group=group, user=user)
