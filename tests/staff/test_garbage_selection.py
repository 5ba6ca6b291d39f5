"""An admin action posted with a selection that names no row ("abc" where a row's id goes) is refused with a message
on the list it came from, on every screen with actions, never a server error."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _screens_with_actions() -> list:
    """Every registered admin screen offering a superuser at least one action, with the first of them."""
    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    screens = []
    for model, modeladmin in admin.site._registry.items():
        actions = modeladmin._filter_actions_by_permissions(request, modeladmin._get_base_actions())
        if actions:
            screens.append(pytest.param(model, actions[0][1], id=model._meta.label))
    return screens


SCREENS = _screens_with_actions()


def test_the_project_has_screens_with_actions():
    assert len(SCREENS) >= 10


@pytest.mark.parametrize("model, action", SCREENS)
@pytest.mark.parametrize("selected", [["abc"], ["1", "abc"], ["1.5"], ["99999999999999999999999"]])
def test_a_selection_that_names_no_row_is_refused_on_the_list(staff_client, model, action, selected):
    changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = staff_client.post(changelist, {"action": action, "_selected_action": selected, "index": "0"})
    assert response.status_code == 302 and response["Location"] == changelist
    html = staff_client.get(changelist).content.decode()
    assert "Nothing was done: the rows chosen were not understood." in html
