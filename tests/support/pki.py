"""The tests' PKI is the demo PKI (service/documents/demo_pki.py), with fresh keys per session."""

from service.documents.demo_pki import PASSPHRASE, LocalPki, local_pki

__all__ = ["PASSPHRASE", "LocalPki", "local_pki"]
