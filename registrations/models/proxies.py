"""Proxy models that give staff their own admin screens (the roster and the dashboard)."""

from workshops.models import Workshop

from .orders import Seat


class RosterSeat(Seat):
    """The staff roster in admin: a view of seats, not a table of its own."""

    class Meta:
        proxy = True
        verbose_name = "roster entry"
        verbose_name_plural = "roster entries"
        # Facilitators: read-only, and only the workshops they are assigned to (Workshop.facilitators).
        permissions = [("view_own_roster", "Can view the roster of the workshops they facilitate")]


class WorkshopDashboard(Workshop):
    """The staff dashboard in admin (seats sold, held, left, revenue): a view of workshops."""

    class Meta:
        proxy = True
        verbose_name = "workshop dashboard"
        verbose_name_plural = "workshop dashboard"
