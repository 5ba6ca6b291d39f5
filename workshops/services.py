"""Writes for the catalog, such as duplicating a workshop for next year."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import AffinityFacilitator, AffinityGroup, PreworkFile, PreworkModule, PriceTier, Session, Workshop


def _same_local_time_next_year(value: datetime, tz) -> datetime:
    local = timezone.localtime(value, tz)
    try:
        shifted = local.replace(year=local.year + 1, tzinfo=None)
    except ValueError:  # 29 February
        shifted = local.replace(year=local.year + 1, day=28, tzinfo=None)
    return timezone.make_aware(shifted, tz)


@transaction.atomic
def duplicate_workshop(*, workshop: Workshop) -> Workshop:
    """Copy a workshop with its sessions, pre-work and prices, one year later and unpublished."""
    tz = workshop.tz
    sessions = list(workshop.sessions.all())
    modules = list(workshop.prework_modules.all())
    tiers = list(workshop.price_tiers.all())

    anchor = sessions[0].starts_at if sessions else timezone.now()
    year = timezone.localtime(_same_local_time_next_year(anchor, tz), tz).year
    base_slug = slugify(f"{workshop.slug.rsplit('-20', 1)[0]}-{year}")[:90]
    slug, n = base_slug, 2
    while Workshop.objects.filter(slug=slug).exists():
        slug, n = f"{base_slug}-{n}", n + 1

    def shift(value):
        return _same_local_time_next_year(value, tz) if value else None

    copy = Workshop.objects.create(
        title=workshop.title,
        slug=slug,
        summary=workshop.summary,
        description=workshop.description,
        outcomes=workshop.outcomes,
        audiences=workshop.audiences,
        prework_hours=workshop.prework_hours,
        live_hours=workshop.live_hours,
        platform=workshop.platform,
        capacity=workshop.capacity,
        registration_opens_at=shift(workshop.registration_opens_at),
        registration_closes_at=shift(workshop.registration_closes_at),
        time_zone=workshop.time_zone,
        seat_changes_close_hours=workshop.seat_changes_close_hours,
        session_link_lead_minutes=workshop.session_link_lead_minutes,
        breakout_room_size=workshop.breakout_room_size,
        affinity_choice_close_hours=workshop.affinity_choice_close_hours,
        is_published=False,
        is_listed=workshop.is_listed,
    )
    Session.objects.bulk_create(
        Session(workshop=copy, title=s.title, starts_at=shift(s.starts_at), ends_at=shift(s.ends_at)) for s in sessions
    )
    copies = PreworkModule.objects.bulk_create(
        PreworkModule(workshop=copy, title=m.title, minutes=m.minutes, url=m.url, body=m.body, position=m.position)
        for m in modules
    )
    files = {f.module_id: f for f in PreworkFile.objects.filter(module__in=modules)}
    PreworkFile.objects.bulk_create(
        PreworkFile(module=new, name=f.name, content_type=f.content_type, size=f.size, data=f.data)
        for old, new in zip(modules, copies, strict=True)
        if (f := files.get(old.pk))
    )
    PriceTier.objects.bulk_create(
        PriceTier(workshop=copy, min_seats=t.min_seats, unit_price_cents=t.unit_price_cents) for t in tiers
    )
    _copy_affinity_groups(workshop, copy)
    return copy


def _copy_affinity_groups(workshop: Workshop, copy: Workshop) -> None:
    """The groups offered and their facilitators; never anyone's choice."""
    for group in workshop.affinity_groups.prefetch_related("facilitators"):
        new = AffinityGroup.objects.create(
            workshop=copy, label=group.label, description=group.description, position=group.position
        )
        AffinityFacilitator.objects.bulk_create(
            AffinityFacilitator(group=new, user_id=f.user_id, name=f.name, email=f.email) for f in group.facilitators.all()
        )
def attach_prework_file(*, module: PreworkModule, name: str, content_type: str, data: bytes) -> PreworkFile:
    """Attach (or replace) the module's file."""
    attached, _ = PreworkFile.objects.update_or_create(
        module=module,
        defaults={"name": name[:200], "content_type": (content_type or "application/octet-stream")[:100], "size": len(data), "data": data},
    )
    return attached


def remove_prework_file(*, module: PreworkModule) -> None:
    PreworkFile.objects.filter(module=module).delete()
