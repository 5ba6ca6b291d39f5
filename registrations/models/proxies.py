"""Proxy models that give staff their own admin screens (the roster and the dashboard)."""

from workshops.models import Workshop

from .orders import Seat


class RosterSeat(Seat):
    """The staff roster in admin: a view of seats, not a table of its own."""

    class Meta:
        proxy = True
        verbose_name = "roster entry"
        verbose_name_plural = "roster"


class WorkshopDashboard(Workshop):
    """The staff dashboard in admin (seats sold, held, left, revenue): a view of workshops."""

    class Meta:
        proxy = True
        verbose_name = "workshop dashboard"
        verbose_name_plural = "workshop dashboard"
