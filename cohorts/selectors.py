def featured_cohort():
    """The cohort course shown on the home page (filled in by the cohorts issue)."""
    return None
