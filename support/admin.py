"""Staff edit the three policy pages and confirm their text; they cannot add or delete them (the site links to each)."""

from django.contrib import admin, messages
from django.utils.html import format_html

from .models import PolicyPage

NOT_REVIEWED = (
    "Starting text, not yet confirmed by staff: it was written with the site as a proposal. Read it, change "
    "whatever does not match your organisation's actual policy, then tick “Reviewed by staff” and save."
)


@admin.register(PolicyPage)
class PolicyPageAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "is_reviewed", "updated_at"]
    list_filter = ["is_reviewed"]
    readonly_fields = ["kind", "review_status", "updated_at", "page_link"]
    fields = ["kind", "page_link", "review_status", "title", "summary", "body", "is_reviewed", "updated_at"]

    @admin.display(description="Public page")
    def page_link(self, obj):
        return format_html('<a href="{0}">{0}</a>', obj.get_absolute_url()) if obj.pk else "—"

    @admin.display(description="Status")
    def review_status(self, obj):
        if obj.is_reviewed:
            return "Confirmed by staff."
        return format_html('<strong data-policy-not-reviewed>{}</strong>', NOT_REVIEWED)

    def changelist_view(self, request, extra_context=None):
        waiting = [page.title for page in PolicyPage.objects.filter(is_reviewed=False)]
        if waiting and request.method == "GET":
            messages.warning(
                request,
                f"Not yet confirmed by staff: {', '.join(waiting)}. Each still has the starting text written with the "
                "site; open it, make it your policy, and tick “Reviewed by staff”.",
            )
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
