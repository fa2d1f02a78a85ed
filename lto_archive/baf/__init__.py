"""OK to format (CST RT-030 "Bon à Formater"): certify a camera card only when every file is safe elsewhere.

    from lto_archive.baf import issue_certificate, verify_certificate, check_card, generate_key, load_private_key

    with Catalog.open(path) as cat:
        cert = issue_certificate(cat, "/media/A001_C007", copies=2, operator="Lab QC",
                                 sign_key=load_private_key("lab.key"))   # NotSafeToFormat when it is not
    cert.write("A001_C007.baf.html"); cert.write("A001_C007.baf.json")
    verify_certificate("A001_C007.baf.json", public_key=load_public_key("lab.pub"))   # CertificateInvalid

`check_card` alone says, per file, what is missing (no raise). See docs/baf.md.
"""

from .certificate import (DOCUMENT_FORMAT, Certificate, CertificateInvalid, VerifiedCertificate, build_content,
                          canonical_json, content_digest, format_for, issue_certificate, load_certificate,
                          verify_certificate)
from .check import (CardChangedSinceCopy, CardCheck, CopyProof, FileCheck, NotSafeToFormat, card_root_name,
                    check_card)
from .keys import fingerprint, generate_key, load_private_key, load_public_key

__all__ = ["check_card", "card_root_name", "CardCheck", "FileCheck", "CopyProof", "NotSafeToFormat",
           "CardChangedSinceCopy", "issue_certificate", "build_content", "Certificate", "CertificateInvalid",
           "VerifiedCertificate", "verify_certificate", "load_certificate", "canonical_json", "content_digest",
           "format_for", "DOCUMENT_FORMAT", "generate_key", "load_private_key", "load_public_key", "fingerprint"]
