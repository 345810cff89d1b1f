from django.apps import AppConfig


class SurvivalConfig(AppConfig):
    name = "analytics.survival"
    label = "survival"
    verbose_name = "Survival comparisons (runs and benchmarks)"
