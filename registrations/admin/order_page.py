"""The order's own admin page: buttons for the order actions this member of staff may take on it (refund the order,
refund some of its seats, resend its confirmation), so nobody has to go back to the Orders list and tick it there."""

from urllib.parse import urlencode

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse

from ..models import Order

# The Orders list's actions a button on the page runs, on that one order. Each is the list's own action, so it keeps
# its permission (admin offers an action only to staff it allows, and the money ones check again inside), its
# confirmation page and its messages.
PAGE_ACTIONS = {"refund_whole_order": "Refund this order…", "resend_confirmation": "Resend confirmation"}


class OrderPageTools:
    """For OrderAdmin: `order_tools` in the change page's context, and the URL its POST buttons go to."""

    class Media:
        js = ["js/scroll-regions.js"]  # the page's wide inline tables, scrollable by keyboard on a phone

    def get_urls(self):
        own = path(
            "<path:object_id>/do/<str:action>/",
            self.admin_site.admin_view(self.page_action_view),  # staff only, and CSRF-checked
            name="registrations_order_page_action",
        )
        return [own, *super().get_urls()]

    def page_action_view(self, request, object_id, action):
        """POST: run one of PAGE_ACTIONS on this order; its page (a confirmation) or, when it has none, back to the
        order. GET (the confirmation's "No, take me back") only goes back."""
        if not self.has_view_or_change_permission(request):  # before the lookup: no telling which orders exist
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404("No such order.")
        if not self.has_view_or_change_permission(request, order):
            raise PermissionDenied
        back = reverse("admin:registrations_order_change", args=[order.pk])
        if request.method != "POST":
            return redirect(back)
        allowed = self.get_actions(request)  # only the actions this user's permissions allow
        if action not in PAGE_ACTIONS or action not in allowed:
            raise PermissionDenied
        func = allowed[action][0]
        return func(self, request, self.get_queryset(request).filter(pk=order.pk)) or redirect(back)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["order_tools"] = self.order_tools(request, obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def order_tools(self, request, order: Order) -> list[dict]:
        """The buttons this user may press on this order: each a POST to page_action_view, or a link."""
        allowed = self.get_actions(request)
        tools = []
        if "refund_whole_order" in allowed:
            tools.append(self._post_tool(order, "refund_whole_order"))
        holds_seats = order.status != Order.Status.MERGED and order.active_seat_count  # joined seats are its parent's
        if "refund_whole_order" in allowed and holds_seats and request.user.has_perm("registrations.view_seat"):
            # The Seats list, where "Refund selected seats" is, showing only this order's seats.
            seats = reverse("admin:registrations_seat_changelist") + "?" + urlencode({"order__id__exact": order.pk})
            tools.append({"label": "Refund seats…", "url": seats, "method": "get"})
        if "resend_confirmation" in allowed and order.status == Order.Status.PAID:
            tools.append(self._post_tool(order, "resend_confirmation"))
        return tools

    def _post_tool(self, order: Order, action: str) -> dict:
        url = reverse("admin:registrations_order_page_action", args=[order.pk, action])
        return {"label": PAGE_ACTIONS[action], "url": url, "method": "post", "action": action}
