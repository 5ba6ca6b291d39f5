"""Navigation by task: which admin screens belong to which section, and what staff call them."""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class Section:
    slug: str
    name: str
    description: str
    # "app_label.model_name", or (that, the name staff know the screen by); listed in this order.
    models: tuple


SECTIONS = (
    Section(
        "run",
        "Run the workshop",
        "Workshops and their sessions, the roster for the day, attendance, certificates, and what people are emailed.",
        (
            ("registrations.rosterseat", "Roster and attendance"),
            "workshops.workshop",
            "workshops.session",
            ("registrations.seat", "Seats and attendees"),
            "registrations.certificate",
            "registrations.breakoutplan",
            ("workshops.affinitygroup", "Affinity groups and facilitators"),
            ("registrations.seatalert", "Waiting for a seat (sold out)"),
            ("workshops.preworkmodule", "Pre-work modules"),
            ("support.policypage", "Policy pages (refunds, privacy, accessibility)"),
            ("registrations.attendance", "Attendance (records)"),
            ("registrations.preworkcompletion", "Pre-work completions (records)"),
        ),
    ),
    Section(
        "money",
        "Money",
        "Orders, refunds, invoices, discount and scholarship codes, quotes and prices.",
        (
            "registrations.order",
            ("registrations.payment", "Payments received (the ledger)"),
            "registrations.refund",
            ("registrations.workshopdashboard", "All workshops: seats and revenue"),
            ("registrations.voucher", "Discount and scholarship codes"),
            "registrations.quote",
            "workshops.pricetier",
        ),
    ),
    Section(
        "course",
        "Year-long course",
        "The cohort course, its monthly touch points and its waitlist.",
        (
            ("cohorts.waitlistentry", "Waitlist"),
            ("cohorts.cohort", "Courses"),
            "cohorts.cohorttouchpoint",
            ("cohorts.waitliststatuschange", "Waitlist status history"),
        ),
    ),
    Section(
        "privacy",
        "People and privacy",
        "Erasing a person's personal data on request, and the audit trail of what staff changed.",
        (
            ("staff.erasure", "Erasures (erase a person)"),
            ("auditlog.logentry", "Audit trail of staff changes"),
        ),
    ),
    Section(
        "more",
        "More",
        "Other screens.",
        (),
    ),
    Section(
        "system",
        "System",
        "Technical records for troubleshooting, and staff accounts.",
        (
            ("registrations.stripeevent", "Stripe events received"),
            ("registrations.outboundemail", "Email outbox"),
            "registrations.remindersent",
            ("django_tasks_database.dbtaskresult", "Background tasks"),
            "auth.user",
            "auth.group",
        ),
    ),
)
# A screen no section names (a model another change adds) is listed under "More" until it is placed.
FALLBACK = "more"


def _placements() -> dict[str, tuple[str, int, str | None]]:
    placed = {}
    for section in SECTIONS:
        for position, entry in enumerate(section.models):
            key, label = entry if isinstance(entry, tuple) else (entry, None)
            placed[key] = (section.slug, position, label)
    return placed


PLACEMENTS = _placements()


def section_url(slug: str) -> str:
    return reverse("admin:staff_section", kwargs={"section": slug})


def sections_for(app_dict: dict, extra_entries: dict[str, list[dict]] | None = None) -> list[dict]:
    """Regroup the admin's per-app lists (already filtered by the user's permissions) into sections,
    in the order above; a section the user can see nothing in is left out, System included."""
    grouped: dict[str, list[tuple[int, dict]]] = {s.slug: [] for s in SECTIONS}
    for app in app_dict.values():
        for model in app["models"]:
            key = f"{app['app_label']}.{model['model']._meta.model_name}"
            slug, position, label = PLACEMENTS.get(key, (FALLBACK, 1000, None))
            grouped[slug].append((position, {**model, "name": label or model["name"]}))
    for slug, entries in (extra_entries or {}).items():
        grouped[slug].extend((1000 + i, entry) for i, entry in enumerate(entries))
    sections = []
    for section in SECTIONS:
        models = [model for _, model in sorted(grouped[section.slug], key=lambda pair: (pair[0], pair[1]["name"]))]
        if models:
            sections.append(
                {
                    "name": section.name,
                    "description": section.description,
                    "app_label": section.slug,
                    "app_url": section_url(section.slug),
                    "has_module_perms": True,
                    "models": models,
                }
            )
    return sections


def section_of(app_label: str, model_name: str) -> Section:
    slug = PLACEMENTS.get(f"{app_label}.{model_name}", (FALLBACK,))[0]
    return next(s for s in SECTIONS if s.slug == slug)
