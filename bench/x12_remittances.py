"""How fast the 835 format reads a year of remittances: realistic 835 5010 files (several
payers, paid, partially paid, denied and reversed claims, adjustments at claim and service-line
level with remark codes, provider adjustments), read into each of its datasets, beside
pyarrow.csv reading the same number of rows of practicelake's own CSV in the same run.

A 50-provider practice receives about 250,000 claim payments a year; `read` must take them in
under a minute (5,000+ claims a second).

Usage: .venv/bin/python bench/x12_remittances.py --claims 250000 [--per-file 5000] [--seed 7]
Prints one line per dataset and one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from dataclasses import dataclass
from decimal import Decimal

import pyarrow.csv as pacsv

from practicelake.formats.x12.remittance import FORMAT

PAYERS = (
    ("87726", "UNITEDHEALTHCARE"),
    ("60054", "AETNA"),
    ("62308", "CIGNA"),
    ("00882", "MEDICARE PART B"),
    ("SKNY0", "EMPIRE BCBS"),
)
# (code, fee) of the procedures an outpatient practice bills most.
PROCEDURES = (("99213", 135), ("99214", 190), ("99203", 170), ("36415", 12), ("85025", 28), ("90471", 30))
DENIALS = (("16", "MA130"), ("50", "N130"), ("197", "N20"), ("29", ""), ("18", ""))
CENT = Decimal("0.01")


@dataclass
class Claim:
    segments: list[str]
    paid: Decimal


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _claim(rng: random.Random, number: int, day: str) -> Claim:
    """One CLP loop whose amounts balance: charge = payment + every CAS amount."""
    lines = rng.choices(PROCEDURES, k=rng.choice((1, 1, 2, 2, 3, 4)))
    roll = rng.random()
    status = "4" if roll < 0.10 else "22" if roll < 0.12 else "2" if roll < 0.2 else "1"
    body: list[str] = []
    charge = paid = Decimal(0)
    claim_cas: list[str] = []
    for index, (code, fee) in enumerate(lines, start=1):
        line_charge = Decimal(fee) * Decimal(rng.choice((1, 1, 1, 2)))
        allowed = (line_charge * Decimal(rng.uniform(0.55, 0.85))).quantize(CENT)
        cas: list[str] = []
        remark = ""
        if status == "4" or (status == "1" and rng.random() < 0.05):  # denied, or one line denied
            reason, remark = rng.choice(DENIALS)
            cas.append(f"CAS*CO*{reason}*{_money(line_charge)}")
            line_paid = Decimal(0)
        else:
            patient = min(allowed, Decimal(rng.choice((0, 0, 20, 25, 40)))) if status != "2" else Decimal(0)
            line_paid = allowed - patient
            cas.append(f"CAS*CO*45*{_money(line_charge - allowed)}")
            if patient:
                cas.append(f"CAS*PR*{rng.choice(('1', '2', '3'))}*{_money(patient)}")
        sign = -1 if status == "22" else 1
        line_charge, line_paid = line_charge * sign, line_paid * sign
        if sign < 0:
            cas = [c.rsplit("*", 1)[0] + "*" + _money(-Decimal(c.rsplit("*", 1)[1])) for c in cas]
        body += [f"SVC*HC:{code}*{_money(line_charge)}*{_money(line_paid)}**1", f"DTM*472*{day}", *cas]
        body.append(f"REF*6R*{number}-{index}")
        if remark:
            body.append(f"LQ*HE*{remark}")
        charge, paid = charge + line_charge, paid + line_paid
    if status in ("1", "2") and rng.random() < 0.03:  # a claim-level sequestration cut
        cut = (paid * Decimal("0.02")).quantize(CENT)
        claim_cas.append(f"CAS*CO*253*{_money(cut)}")
        paid -= cut
    patient_share = sum((Decimal(s.rsplit("*", 1)[1]) for s in body if s.startswith("CAS*PR")), Decimal(0))
    head = [
        f"CLP*PCN{number:08d}*{status}*{_money(charge)}*{_money(paid)}*{_money(patient_share)}*12*"
        f"{rng.randrange(10**13, 10**14)}*11*1",
        *claim_cas,
        f"NM1*QC*1*PATIENT*NAME****MI*M{rng.randrange(10**8, 10**9)}",
        f"NM1*82*1*PROVIDER*NAME****XX*{1000000000 + rng.randrange(50)}",
        f"DTM*232*{day}",
    ]
    return Claim(head + body, paid)


def remittance_file(rng: random.Random, first: int, count: int, week: int) -> bytes:
    payer_id, payer_name = PAYERS[week % len(PAYERS)]
    day = f"2025{1 + week % 12:02d}{1 + week % 28:02d}"
    claims = [_claim(rng, first + i, day) for i in range(count)]
    interest = Decimal(rng.randrange(0, 500)) / 100
    levy = Decimal(rng.randrange(0, 2000)) / 100
    total = sum((c.paid for c in claims), Decimal(0)) + interest - levy
    body = [
        "ST*835*0001",
        f"BPR*I*{_money(total)}*C*ACH*CCP*01*011000015*DA*123456789*1512345678**01*021000021*DA*987654321*{day}",
        f"TRN*1*EFT{week:04d}{first:08d}*1512345678",
        f"DTM*405*{day}",
        f"N1*PR*{payer_name}*XV*{payer_id}",
        "N1*PE*FAMILY PRACTICE GROUP*XX*1999999999",
        "LX*1",
    ]
    for claim in claims:
        body += claim.segments
    body.append(f"PLB*1999999999*{day}*L6*{_money(-interest)}*WO*{_money(levy)}")
    body.append(f"SE*{len(body) + 1}*0001")
    isa = f"ISA*00*          *00*          *ZZ*PAYER          *ZZ*PRACTICE       *250101*1200*^*00501*{week:09d}*0*P*:"
    segments = [
        isa,
        f"GS*HP*PAYER*PRACTICE*{day}*1200*{week}*X*005010X221A1",
        *body,
        f"GE*1*{week}",
        f"IEA*1*{week:09d}",
    ]
    return ("~\n".join(segments) + "~\n").encode()


def generate(claims: int, per_file: int = 5000, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    files, first, week = [], 0, 0
    while first < claims:
        count = min(per_file, claims - first)
        files.append(remittance_file(rng, first, count, week))
        first, week = first + count, week + 1
    return files


def measure(files: list[bytes]) -> dict[str, object]:
    figures: dict[str, object] = {"files": len(files), "megabytes": round(sum(map(len, files)) / 1e6, 1)}
    claims = 0
    for dataset in FORMAT.datasets:
        started = time.perf_counter()
        rows = bad = 0
        tables = []
        for data in files:
            parsed = FORMAT.read(data, dataset)
            rows, bad = rows + parsed.rows.num_rows, bad + len(parsed.bad_rows)
            tables.append(parsed.rows)
        seconds = time.perf_counter() - started
        if dataset == "claim_outcomes":
            claims = rows + bad
        text = io.BytesIO()
        for number, table in enumerate(tables):
            pacsv.write_csv(table, text, pacsv.WriteOptions(include_header=number == 0))
        csv_bytes = text.getvalue()
        started = time.perf_counter()
        names = tables[0].column_names
        baseline = pacsv.read_csv(
            io.BytesIO(csv_bytes),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, "string")),
        )
        csv_seconds = time.perf_counter() - started
        figures[dataset] = {
            "rows": rows,
            "bad_rows": bad,
            "seconds": round(seconds, 2),
            "claims_per_second": round(claims / seconds),
            "csv_rows": baseline.num_rows,
            "csv_seconds": round(csv_seconds, 3),
        }
        print(
            f"{dataset:15} {rows:>9,} rows {bad:>4} bad  {seconds:6.2f} s  {claims / seconds:>9,.0f} claims/s   "
            f"practicelake CSV, same rows: {csv_seconds:6.3f} s",
            file=sys.stderr,
        )
    figures["claims"] = claims
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=250_000)
    parser.add_argument("--per-file", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    files = generate(args.claims, args.per_file, args.seed)
    print(f"generated {len(files)} files in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(json.dumps(measure(files)))


if __name__ == "__main__":
    main()
