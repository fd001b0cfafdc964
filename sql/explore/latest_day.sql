-- The latest day with adoption rows: the default --day of `sounds top` and `report`.
SELECT max(day) FROM sound_daily
