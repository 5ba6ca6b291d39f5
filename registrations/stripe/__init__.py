"""Everything that talks to Stripe: the API client (`client`) and the webhook dispatch (`webhooks`)."""
