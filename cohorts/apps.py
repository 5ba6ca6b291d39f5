"""App configuration for cohorts: the year-long course and its waitlist."""

from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"
    verbose_name = "Cohort course"
