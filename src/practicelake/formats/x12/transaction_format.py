"""What the X12 formats share: a file is theirs when it is an X12 interchange whose transaction
sets are all of the kind (ST01) and implementation (ST03, else GS08) the format reads."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping

from practicelake.errors import MalformedFileError
from practicelake.formats.base import Inspection, ParsedFile, Source
from practicelake.formats.x12.segments import Document, Transaction, decoded, delimiters_at, read_document
from practicelake.settings import cited

SNIFF_BYTES = 4096


class TransactionSetFormat(ABC):
    name: str
    description: str
    unit = "segment"
    datasets: tuple[str, ...]

    @abstractmethod
    def problem(self, transaction: Transaction) -> str | None:
        """Why this format cannot read `transaction` (its kind or implementation), or None."""

    @abstractmethod
    def fed(self, document: Document) -> tuple[tuple[str, ...], list[str]]:
        """The datasets the document holds records of, and the warnings of reading it."""

    @abstractmethod
    def rows(self, document: Document, dataset: str, columns: Collection[str] | None) -> ParsedFile:
        """The rows of `dataset` (one of `self.datasets`)."""

    def read_datasets(self, data: bytes, wanted: Mapping[str, Collection[str] | None]) -> dict[str, ParsedFile]:
        """The rows of several datasets of one file, read once (base.MultiDatasetFormat)."""
        unknown = [d for d in wanted if d not in self.datasets]
        if unknown:
            raise MalformedFileError(f"{self.name} feeds {', '.join(self.datasets)}, not {cited(unknown[0])}")
        return self.rows_of(self.document(data), wanted)

    def rows_of(self, document: Document, wanted: Mapping[str, Collection[str] | None]) -> dict[str, ParsedFile]:
        return {dataset: self.rows(document, dataset, columns) for dataset, columns in wanted.items()}

    def sniff(self, source: Source) -> bool:
        """An ISA header first, and a first transaction set this format reads."""
        head = decoded(source.data[:SNIFF_BYTES], [])
        start = len(head) - len(head.lstrip())
        if not head.startswith("ISA", start):
            return False
        try:
            delimiters, _, after = delimiters_at(head, start, 1)
        except MalformedFileError:
            return False
        term, sep = re.escape(delimiters.segment), re.escape(delimiters.element)
        gs = re.search(f"(?:^|{term})\\s*GS{sep}([^{term}]*)", head[after:])
        st = re.search(f"(?:^|{term})\\s*ST{sep}([^{term}]*)", head[after:])
        if st is None:
            return False
        st_elements = st.group(1).split(delimiters.element)
        gs_elements = gs.group(1).split(delimiters.element) if gs else []
        implementation = (st_elements[2] if len(st_elements) > 2 else "") or (
            gs_elements[7] if len(gs_elements) > 7 else ""
        )
        probe = Transaction(st_elements[0].strip(), implementation.strip(), 0, 0, delimiters)
        return self.problem(probe) is None

    def document(self, data: bytes) -> Document:
        document = read_document(data)
        if not document.transactions:
            raise MalformedFileError(f"the interchange holds no transaction set (ST/SE) for {self.name}")
        for transaction in document.transactions:
            problem = self.problem(transaction)
            if problem is not None:
                raise MalformedFileError(f"the transaction set at segment {transaction.start + 1} {problem}")
        return document

    def inspect(self, source: Source) -> Inspection:
        datasets, warnings = self.fed(self.document(source.data))
        return Inspection(datasets=datasets, warnings=tuple(warnings))

    def read(self, data: bytes, dataset: str, columns: Collection[str] | None = None) -> ParsedFile:
        if dataset not in self.datasets:
            raise MalformedFileError(f"{self.name} feeds {', '.join(self.datasets)}, not {cited(dataset)}")
        return self.rows(self.document(data), dataset, columns)
