-- Distinct patients seen in one calendar month, quarter or year (access_patients_seen), for
-- the provider and location chosen ('*': every one of them).
select p.patients_seen
from access_patients_seen as p
where
    p.practice_id = $practice_id
    and p.period_grain = $grain
    and p.period_start = $period_start
    and p.provider_id = coalesce(cast($provider as varchar), '*')
    and p.location_id is not distinct from coalesce(cast($location as varchar), '*')
