"""Which LTO generation a drive is, from its INQUIRY vendor and product id.

Rules as data, after the LTFS reference's supported-device tables (IBM, HP/HPE,
Quantum) and the vendors' SCSI references:

    IBM      ULT3580-TD9, ULTRIUM-TD9, ULT3580-HH9, ULTRIUM-HH9, "HH LTO Gen 9";
             generation 10 is written "A" (ULT3580-TDA)
    HP, HPE  "Ultrium 9-SCSI"
    QUANTUM  ULTRIUM-HH9, "ULTRIUM 6"
    others   (Tandberg, Overland, rebadged drives) a product id naming "LTO-N",
             "LTO N" or "ULTRIUM N"; this last rule was not checked against real
             Tandberg inquiry data: a miss gives None, never a wrong generation
             from an unrelated number, because the rule needs the LTO/ULTRIUM word.
"""

from __future__ import annotations

import re

from ...generations import GENERATIONS, Generation

# (vendor regex or None for any vendor, product regex with one group = generation digit(s))
RULES: tuple[tuple[str | None, str], ...] = (
    (r"IBM", r"^(?:ULT3580|ULTRIUM)-(?:TD|HH)([1-9A])$"),
    (r"IBM", r"^HH LTO Gen ([1-9])$"),
    (r"HPE?", r"^Ultrium ([1-9]|10)-SCSI$"),
    (r"QUANTUM", r"^ULTRIUM[- ](?:HH)?([1-9]|10)$"),
    (None, r"\b(?:LTO|ULTRIUM)[- ]?([1-9]|10)\b"),
)


def generation_of(vendor: str, product: str) -> Generation | None:
    """The drive's LTO generation, or None when the product id names none we know."""
    vendor, product = vendor.strip(), product.strip()
    for vendor_rule, product_rule in RULES:
        if vendor_rule is not None and not re.fullmatch(vendor_rule, vendor, re.IGNORECASE):
            continue
        m = re.search(product_rule, product, re.IGNORECASE)
        if m:
            digit = m.group(1).upper()
            number = 10 if digit == "A" else int(digit)
            return GENERATIONS.get(f"LTO-{number}")
    return None
