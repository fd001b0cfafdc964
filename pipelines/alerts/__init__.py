"""Adoption alerts (issue #7): rules from config/alerts.yaml, crossings recorded once in `alerts`, delivered
through a signed webhook and/or SMTP e-mail, plus an Airflow notifier for failed tasks. See docs/alerts.md."""
