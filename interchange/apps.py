from django.apps import AppConfig


class InterchangeConfig(AppConfig):
    name = "interchange"
    label = "interchange"
    verbose_name = "Cohort import and export (registry interchange format)"
