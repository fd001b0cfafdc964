-- Channels that already confirmed this alert: never sent to again by the daily run.
SELECT channel FROM alert_deliveries WHERE alert_id = $alert_id AND status = 'sent';
