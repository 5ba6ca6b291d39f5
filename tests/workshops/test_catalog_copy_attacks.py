"""The catalog copy attacked (independent review of the first version of workshops/catalog.py): staff moving rows,
saving stale instances, two staff at once, writes racing a bulk update, a renewal that fails, proxies, and a price
change landing just before checkout's lock. Each failed on that version; what is checked is that no process ever
prices or shows anything but what the database holds."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from registrations.models import Order
from tests.factories import WorkshopFactory
from tests.registrations.helpers import registration_data
from tests.staff.helpers import form_data
from workshops.catalog import with_catalog
from workshops.models import PriceTier, Session, Workshop

pytestmark = pytest.mark.django_db


def _register_url(workshop) -> str:
    return f"/workshops/{workshop.slug}/register/"


def _price_now(workshop, seats=1) -> list:
    return [(t.min_seats, t.unit_price_cents) for t in with_catalog(Workshop.objects).get(pk=workshop.pk).tier_list]


def _price_in_database(workshop) -> list:
    return list(PriceTier.objects.filter(workshop=workshop).order_by("min_seats").values_list("min_seats", "unit_price_cents"))


def test_a_tier_moved_to_another_workshop_in_admin_no_longer_prices_the_old_one(staff_client, settings):
    """PriceTierAdmin lets staff change a tier's workshop; post_save bumps only the NEW workshop."""
    settings.STRIPE_SECRET_KEY = ""
    a, b = WorkshopFactory(), WorkshopFactory()
    PriceTier.objects.filter(workshop=b, min_seats=5).delete()
    team = PriceTier.objects.get(workshop=a, min_seats=5)  # $100 a seat for 5 or more
    buyer = Client()
    buyer.get(_register_url(a))  # this process now has A's copy, with the team tier

    url = f"/admin/workshops/pricetier/{team.pk}/change/"
    response = staff_client.post(url, form_data(staff_client.get(url), workshop=str(b.pk)))
    assert response.status_code == 302
    assert list(PriceTier.objects.filter(workshop=a).values_list("min_seats", flat=True)) == [1]

    buyer.post(_register_url(a), registration_data(seat_count=5, buyer_email="team@lincoln.example"))
    assert Order.objects.get(workshop=a).total_cents == 5 * 12000


def test_a_workshop_saved_from_an_instance_read_before_a_price_change_keeps_the_new_price(settings):
    """Workshop.save() writes catalog_version back from memory: any stale instance restores the old token."""
    settings.STRIPE_SECRET_KEY = ""
    workshop = WorkshopFactory()
    buyer = Client()
    buyer.get(_register_url(workshop))  # copy kept under the current version
    w = Workshop.objects.get(pk=workshop.pk)  # e.g. the admin's get_object, a shell, a cohort sync
    PriceTier.objects.filter(workshop=w, min_seats=1).update(unit_price_cents=15000)  # staff, elsewhere
    w.capacity = 40
    w.save()  # writes the version it read: the one the stale copy is kept under
    buyer.post(_register_url(workshop), registration_data())
    assert Order.objects.get(workshop=workshop).total_cents == 15000


@pytest.mark.django_db(transaction=True)
def test_two_staff_saving_at_once_in_admin_do_not_bring_back_an_old_price(staff_client, settings, monkeypatch):
    """Staff A saves the workshop page (title only) while staff B's price change commits between A's read and A's
    save_model: a real second connection, PostgreSQL only."""
    if connection.vendor != "postgresql":
        pytest.skip("needs two connections")
    from workshops.admin import WorkshopAdmin

    settings.STRIPE_SECRET_KEY = ""
    workshop = WorkshopFactory()
    workshop.prework_modules.update(url="https://example.org/reading")
    buyer = Client()
    buyer.get(_register_url(workshop))
    page = staff_client.get(f"/admin/workshops/workshop/{workshop.pk}/change/")
    data = form_data(page, title="Renamed")

    original = WorkshopAdmin.save_model

    def staff_b_commits_first(self, request, obj, form, change):
        def other_staff():
            tier = PriceTier.objects.get(workshop_id=obj.pk, min_seats=1)
            tier.unit_price_cents = 15000
            with transaction.atomic():
                tier.save()
            connections.close_all()

        t = threading.Thread(target=other_staff)
        t.start()
        t.join()
        return original(self, request, obj, form, change)

    monkeypatch.setattr(WorkshopAdmin, "save_model", staff_b_commits_first)
    assert staff_client.post(f"/admin/workshops/workshop/{workshop.pk}/change/", data).status_code == 302
    assert PriceTier.objects.get(workshop=workshop, min_seats=1).unit_price_cents == 15000
    buyer.post(_register_url(workshop), registration_data())
    assert Order.objects.get(workshop=workshop).total_cents == 15000


def test_a_session_saved_through_its_proxy_model_renews_the_version():
    """BreakoutPlan is a proxy of Session: signals connected with sender=Session do not fire for it (latent: its
    admin is read-only today)."""
    from registrations.models.affinity import BreakoutPlan

    workshop = WorkshopFactory()
    with_catalog(Workshop.objects).get(pk=workshop.pk)
    plan = BreakoutPlan.objects.filter(workshop=workshop).order_by("starts_at").first()
    plan.title = "Moved"
    plan.save()
    assert with_catalog(Workshop.objects).get(pk=workshop.pk).session_list[0].title == "Moved"


@pytest.mark.django_db(transaction=True)
def test_a_bulk_update_renews_rows_another_transaction_added_meanwhile():
    """A row another connection commits while a bulk update runs is either updated with its workshop's version
    renewed, or left alone (update() locks the rows it changes first). PostgreSQL, real second connection."""
    if connection.vendor != "postgresql":
        pytest.skip("needs two connections")
    a, b = WorkshopFactory(), WorkshopFactory()
    PriceTier.objects.filter(workshop=b).delete()

    def other_staff_adds_tier():
        PriceTier.objects.create(workshop_id=b.pk, min_seats=1, unit_price_cents=9999)
        with_catalog(Workshop.objects).get(pk=b.pk)  # a request in this process reads B (new version, 9999)
        connections.close_all()

    fired = []

    def wrapper(execute, sql, params, many, context):
        if '"workshops_pricetier"' in sql and sql.startswith(("UPDATE", "SELECT")) and not fired:
            fired.append(1)
            t = threading.Thread(target=other_staff_adds_tier)
            t.start()
            t.join()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        PriceTier.objects.filter(unit_price_cents=9999).update(unit_price_cents=20000)  # "reprice every 99.99 tier"
    assert fired
    assert _price_now(b) == _price_in_database(b)


def test_a_price_change_committed_before_the_checkout_lock_is_charged(settings, monkeypatch):
    """A price change committed after the request read the tiers but before place_order took the workshop lock
    is what the order is priced at (the change renewed catalog_version on the row place_order locks)."""
    import registrations.views.registration as views

    settings.STRIPE_SECRET_KEY = ""
    workshop = WorkshopFactory()
    real = views.existing_order_for

    def staff_change_lands_now(**kwargs):
        PriceTier.objects.filter(workshop_id=workshop.pk, min_seats=1).update(unit_price_cents=15000)
        return real(**kwargs)

    monkeypatch.setattr(views, "existing_order_for", staff_change_lands_now)
    Client().post(_register_url(workshop), registration_data())
    assert Order.objects.get(workshop=workshop).total_cents == 15000


def test_bulk_update_moving_tiers_between_workshops_works():
    """bulk_update() calls update(workshop=Case(...)); update() then passes the Case expression itself to
    bump_catalog_version as a workshop id."""
    a, b = WorkshopFactory(), WorkshopFactory()
    PriceTier.objects.filter(workshop=b, min_seats=5).delete()
    team = PriceTier.objects.get(workshop=a, min_seats=5)
    with_catalog(Workshop.objects).get(pk=a.pk)
    team.workshop = b
    PriceTier.objects.bulk_update([team], ["workshop"])
    assert _price_now(a) == [(1, 12000)]
    assert _price_now(b) == [(1, 12000), (5, 10000)]


@pytest.mark.django_db(transaction=True)
def test_a_price_saved_outside_a_transaction_is_never_hidden_by_a_failed_bump():
    """In autocommit (a shell, a script) a tier's save and its workshop's new version are still one transaction:
    when the renewal waits on the workshop row a checkout holds and fails, the price change fails with it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs two connections")
    from django.db.utils import OperationalError

    workshop = WorkshopFactory()
    with_catalog(Workshop.objects).get(pk=workshop.pk)
    locked, release = threading.Event(), threading.Event()

    def checkout_holds_the_workshop_lock():
        with transaction.atomic():
            Workshop.objects.select_for_update().get(pk=workshop.pk)
            locked.set()
            release.wait(10)
        connections.close_all()

    t = threading.Thread(target=checkout_holds_the_workshop_lock)
    t.start()
    locked.wait(10)
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    tier = PriceTier.objects.get(workshop=workshop, min_seats=1)
    tier.unit_price_cents = 15000
    with pytest.raises(OperationalError):
        tier.save()
    release.set()
    t.join()
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = 0")
    assert _price_now(workshop) == _price_in_database(workshop) == [(1, 12000), (5, 10000)]
