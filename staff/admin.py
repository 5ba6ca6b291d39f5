"""Staff screens: staff accounts with times in the organisation's zone, the record of erasures, and the form
that erases a person (Administrator only)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from workshops.adminforms import StaffFormsMixin

from . import services
from .models import Erasure

ERASE_PERMISSION = "staff.erase_person"
User = get_user_model()

if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(StaffFormsMixin, UserAdmin):
    """Last login and date joined as plain boxes in Pacific time: no "hours ahead of server time" warnings."""


class EraseForm(forms.Form):
    email = forms.EmailField(label="Their email address", help_text="Every record with this address, in any case.")
    reason = forms.CharField(
        label="Why", max_length=200, help_text="E.g. “Request by email on March 2”. No name or address here."
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


@admin.register(Erasure)
class ErasureAdmin(admin.ModelAdmin):
    list_display = ["erased_at", "erased_by", "reason", "orders", "seats", "waitlist_entries", "other_records"]
    list_select_related = ["erased_by"]
    date_hierarchy = "erased_at"
    search_fields = ["reason"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return request.user.has_perm(ERASE_PERMISSION)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """Erase a person: type the address, see how many records hold it, confirm."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = EraseForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if data["confirmed"]:
                erasure = services.erase_person(email=data["email"], by=request.user, reason=data["reason"])
                messages.success(
                    request,
                    f"Erased: {erasure.orders} order(s), {erasure.seats} seat(s), {erasure.waitlist_entries} waitlist "
                    f"entr{'y' if erasure.waitlist_entries == 1 else 'ies'} and {erasure.other_records} other record(s).",
                )
                return redirect("admin:staff_erasure_changelist")
            preview = services.erasure_preview(email=data["email"])
            form = EraseForm(initial={**data, "confirmed": True})
        context = {
            **self.admin_site.each_context(request),
            "title": "Erase a person's personal data",
            "opts": self.model._meta,
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/staff/erasure/erase.html", context, status=400 if form.errors else 200)
