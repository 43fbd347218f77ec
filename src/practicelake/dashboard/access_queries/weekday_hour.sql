-- Appointments scheduled in the period by ISO weekday and practice-local hour of the start
-- (access_hourly); starts known by their day only have no hour and are left out.
select
    cast(isodow(h.day) as integer) as weekday,
    h.hour,
    cast(sum(h.scheduled_appointments) as bigint) as scheduled_appointments
from access_hourly as h
where
    h.practice_id = $practice_id
    and h.day between $start and $end
    and h.hour is not null
    and (cast($provider as varchar) is null or h.provider_id = $provider)
    and (cast($location as varchar) is null or h.location_id = $location)
group by cast(isodow(h.day) as integer), h.hour
