"""Staff edit the three policy pages; they cannot add or delete them (the site links to each)."""

from django.contrib import admin
from django.utils.html import format_html

from .models import PolicyPage


@admin.register(PolicyPage)
class PolicyPageAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "updated_at"]
    readonly_fields = ["kind", "updated_at", "page_link"]
    fields = ["kind", "page_link", "title", "summary", "body", "updated_at"]

    @admin.display(description="Public page")
    def page_link(self, obj):
        return format_html('<a href="{0}">{0}</a>', obj.get_absolute_url()) if obj.pk else "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
