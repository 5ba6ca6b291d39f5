"""In a real browser, a seat count that is not a whole number gets no running total from register.js, as the server
gives none ("Enter a whole number of seats"). (A review found '2.5' totalled as 2 seats and '1e3' as 1.)"""

import pytest

from tests.e2e.helpers import expect

REGISTER = "/workshops/using-racial-affinity-groups-in-schools/register/"

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("typed", ["2.5", "1e3"])
def test_a_count_that_is_not_a_whole_number_gets_no_running_total(page, typed):
    page.goto(REGISTER)
    page.get_by_label("Number of seats").fill(typed)
    summary = page.locator("#price-summary")
    expect(summary).not_to_contain_text("×", timeout=2000)
