"""The three policy pages with sensible starting text, which staff then edit in admin."""

from django.db import migrations

REFUNDS = """## Cancelling your registration
- More than 14 days before the first live session: a full refund.
- From 14 days before the first live session until it starts: half the price of the seat back, or give the seat to a colleague at no cost.
- Once the first live session has started: no refund, but write to us and, if a later workshop has room, we will move you to it.

## Giving a seat to someone else
A team lead can name, correct or hand over any seat from the order page until 24 hours before the first live session, at no cost. The person who had the seat is told by email, and their private link stops working. If you registered yourself, write to us and we will move your seat to a colleague.

## Team orders
Refunds can cover some seats of a team order. The seats that stay keep the team price, and each refunded seat returns its share of what the order actually paid.

## Invoices
An invoice that is not paid by its due date is cancelled automatically and its seats are released. Nothing is owed for a cancelled invoice.

## If we cancel or move the workshop
You choose: a full refund, or a seat on the new dates.

## How refunds are paid
Refunds go back to the card or bank account the payment came from, through our payment provider, Stripe. They usually appear within 5 to 10 business days. Payments by cheque or bank transfer are returned the same way.

## How to ask
Write to us from the address you registered with and give your order reference (it starts with ESL-). We reply within two working days."""

PRIVACY = """## What we collect
- When you register: your name, email address, school or district and role.
- For each attendee: their name and email address, any access needs they tell us about, and, if they choose one, the racial affinity group they would like to join in the live sessions.
- While you take part: which pre-work modules you have marked as done and which live sessions you attended, for your certificate.
- For the year-long course waitlist: your name, email, role, organisation and team size.
- Payments are handled by Stripe. We never see or store card numbers.

## Who sees what
- You see everything on your own private pages. Each link belongs to one person; please do not forward yours.
- Team leads see the names and email addresses of the attendees on their order and how much of the pre-work each has done. Team leads never see attendees' access needs, their private links, or their affinity groups.
- Other attendees never see your details.
- Coordinators and the facilitators of your sessions see affinity group choices, to plan breakout rooms, and access needs, to arrange captions or an interpreter.
- Finance staff see orders, invoices and payments, not access needs or affinity groups.
- Stripe processes payments, and our email provider delivers our emails. Neither receives access needs or affinity groups.

## How long we keep it
Access needs and affinity group choices are deleted after the workshop ends. Orders, invoices and payments are kept as long as the law requires us to keep accounting records. Certificates keep your name, so that your district can check them.

## Your choices
You can ask us to correct or erase your details at any time; we keep only the payment records the law requires. Registering for a workshop on race can be a sensitive fact: we never share who registered with your employer or anyone else, except the team lead who registered you."""

ACCESSIBILITY = """## The live sessions
The live sessions are on Zoom. Tell us on the registration form, or later by email, if you would like live captions, an interpreter, or anything else that helps you take part; we arrange it before the session. Two weeks' notice lets us book an interpreter, but ask at any time and we will do our best.

## The pre-work
The pre-work is readings and short videos. Videos have captions and the readings are text you can enlarge or have read aloud. If a format does not work for you, write to us and we will send another.

## This website
We build this site to work with a keyboard alone and with screen readers, on phones as well as computers, and we test every page against the Web Content Accessibility Guidelines (WCAG 2.1, level AA). Session times are shown in Pacific Time and, where your device uses another time zone, in your own time too.

## Tell us about a barrier
If something on this site or in the workshop gets in your way, please tell us. We reply within two working days and will help you register or take part another way in the meantime."""

PAGES = [
    ("refunds", "Refunds and cancellation", "What happens if you cannot attend, if a seat changes hands, or if we have to change plans.", REFUNDS),
    ("privacy", "Privacy", "What we keep about you, who can see it, and when it is deleted.", PRIVACY),
    ("accessibility", "Accessibility", "How we make the workshop and this website work for everyone.", ACCESSIBILITY),
]


def create_pages(apps, schema_editor):
    PolicyPage = apps.get_model("support", "PolicyPage")
    for kind, title, summary, body in PAGES:
        PolicyPage.objects.get_or_create(kind=kind, defaults={"title": title, "summary": summary, "body": body})


def remove_pages(apps, schema_editor):
    apps.get_model("support", "PolicyPage").objects.filter(kind__in=[kind for kind, *_ in PAGES]).delete()


class Migration(migrations.Migration):
    dependencies = [("support", "0001_policy_page")]

    operations = [migrations.RunPython(create_pages, remove_pages)]
