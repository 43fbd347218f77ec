select practice_id, cast(start_at as date) as day, count(*) as appointments
from cleaned.appointment
group by practice_id, cast(start_at as date)
