"""The mapping's own schema: what a wrong mapping is told, naming the file, the table and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from practicelake.formats.mapping import MappingError, load_mapping, shipped

HEAD = 'name = "acme"\nsystem = "Acme PM"\n'
APPOINTMENTS = """
[[files]]
match = "appts*.csv"

[files.datasets.appointments.columns]
appointment_id = "ApptID"
"""


def problem(text: str) -> str:
    with pytest.raises(MappingError) as raised:
        load_mapping(text, "acme.toml")
    return str(raised.value)


def test_a_valid_mapping_loads() -> None:
    mapping = load_mapping(HEAD + APPOINTMENTS)
    assert mapping.datasets == ("appointments",)
    assert mapping.source.time_zone == "practice"
    assert mapping.files[0].datasets["appointments"].columns["appointment_id"].source == "ApptID"


def test_not_toml_names_the_file() -> None:
    assert problem("name = ").startswith("acme.toml: not TOML")


def test_a_mapping_file_is_named_by_its_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(HEAD + APPOINTMENTS.replace("ApptID", ""), encoding="utf-8")
    with pytest.raises(MappingError, match=r"^mine\.toml: files\[0\]\.datasets\.appointments\.columns\.appointment_id"):
        load_mapping(path)


def test_an_unknown_key_is_named_with_its_table() -> None:
    message = problem(HEAD + APPOINTMENTS.replace("[[files]]", "[[files]]\nmatches = 'x'"))
    assert "files[0].matches: not a key of the mapping schema" in message


def test_an_unknown_dataset() -> None:
    assert "unknown dataset 'appointment'" in problem(
        HEAD + APPOINTMENTS.replace("datasets.appointments", "datasets.appointment")
    )


def test_an_unknown_contract_column() -> None:
    message = problem(HEAD + APPOINTMENTS + 'start = "Start"\n')
    assert "datasets.appointments.columns.start: appointments has no column 'start'" in message


def test_practice_id_is_never_mapped() -> None:
    assert "practice_id: the practice is the one ingested for" in problem(HEAD + APPOINTMENTS + 'practice_id = "P"\n')


def test_one_origin_per_column() -> None:
    message = problem(HEAD + APPOINTMENTS + 'status = { from = "S", constant = "booked" }\n')
    assert "columns.status: give exactly one of `from`, `join` or `constant` (got from, constant)" in message
    assert "give exactly one of" in problem(HEAD + APPOINTMENTS + "status = { }\n")


def test_a_value_map_says_what_an_unlisted_value_becomes() -> None:
    message = problem(HEAD + APPOINTMENTS + 'status = { from = "S", values = { X = "noshow" } }\n')
    assert "columns.status: a value map says what an unlisted value becomes" in message
    both = 'status = { from = "S", values = { X = "noshow" }, default = "booked", unlisted = "keep" }\n'
    assert "a value map says" in problem(HEAD + APPOINTMENTS + both)
    assert "belong to a value map" in problem(HEAD + APPOINTMENTS + 'status = { from = "S", default = "booked" }\n')


def test_a_value_listed_twice() -> None:
    twice = 'status = { from = "S", default = "booked", values = { X = "noshow", " x" = "cancelled" } }\n'
    assert "lists a source value twice" in problem(HEAD + APPOINTMENTS + twice)


def test_a_join_has_two_columns_at_least() -> None:
    assert "columns.appointment_id.join" in problem(HEAD + APPOINTMENTS.replace('"ApptID"', '{ join = ["A"] }'))


def test_source_options_are_checked() -> None:
    assert "source.time_zone: not a time zone" in problem(
        HEAD + '[source]\ntime_zone = "Mars/Olympus"\n' + APPOINTMENTS
    )
    assert "'YYYY-MM-DD' is not a strftime format" in problem(
        HEAD + '[source]\nformats = ["YYYY-MM-DD"]\n' + APPOINTMENTS
    )
    assert "same character" in problem(HEAD + '[source]\ndecimal = ","\nthousands = ","\n' + APPOINTMENTS)
    assert "source.encoding: not a text encoding" in problem(HEAD + '[source]\nencoding = "klingon"\n' + APPOINTMENTS)


def test_formats_belong_to_date_columns() -> None:
    message = problem(HEAD + APPOINTMENTS + 'duration_minutes = { from = "D", formats = ["%M"] }\n')
    assert "columns.duration_minutes: `formats` is for date and time columns" in message


def test_a_dataset_comes_from_one_file() -> None:
    assert "dataset 'appointments' is fed by files[0] and files[1]" in problem(HEAD + APPOINTMENTS + APPOINTMENTS)


def test_name_and_files_are_required() -> None:
    message = problem('system = "x"\n')
    assert "name: Field required" in message and "files: Field required" in message


def test_the_shipped_mappings_load() -> None:
    assert set(shipped("synthea").datasets) >= {"charges", "payments", "encounters"}
    assert len(shipped("practicelake").datasets) == 13
    with pytest.raises(MappingError, match="no mapping shipped named 'nope'"):
        shipped("nope")
