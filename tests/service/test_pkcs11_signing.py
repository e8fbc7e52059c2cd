"""Server-side signing with the key on a PKCS#11 token (SoftHSM2 here, an HSM or a USB token in a
province): the demo Chairman's key and certificate are imported into a fresh token, the decision is
signed through pyHanko's PKCS11Signer and checked by pyHanko's validator; a wrong PIN is a clear
message and stores nothing. Skipped only when Debian's softhsm2 is not installed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.core.errors import InvalidInput
from service.documents.award_decision import render_docx
from service.documents.demo_pki import seal_png, signature_png
from service.documents.pdf import docx_to_pdf
from service.documents.signing import Pkcs11Slot, SigningError, SigningKey, Trust, fingerprint, sign, verify
from service.documents.stamp import signature_place
from service.usecases import decisions
from tests.documents.test_award_decision import decision
from tests.support import softhsm
from tests.support.pki import LocalPki
from tests.support.signing import SIGNER, write_setup

from .helpers import CHAIRMAN, HA_OFFICER, actor
from .test_decisions import batch_at_signing, counts, latest

pytestmark = pytest.mark.skipif(not softhsm.available(), reason="Debian's softhsm2 is not installed "
                                                                "(make test-system-packages installs it)")


@pytest.fixture(scope="module")
def slot(tmp_path_factory: pytest.TempPathFactory, pki: LocalPki) -> Iterator[Pkcs11Slot]:
    with softhsm.token_with_chairman(tmp_path_factory.mktemp("softhsm"), pki) as made:
        yield made


def token_key(pki: LocalPki, slot: Pkcs11Slot, pin: str) -> SigningKey:
    return SigningKey(b"", pin.encode(), "Ủy ban nhân dân tỉnh Hưng Yên", signature_png(), seal_png(), pkcs11=slot,
                      certificate=pki.cert_pem("chairman"))


def test_a_key_on_the_token_signs_a_valid_timestamped_decision(pki: LocalPki, slot: Pkcs11Slot) -> None:
    draft = docx_to_pdf(render_docx(decision(3)))
    trust = Trust((pki.root_pem,), pki.tsa_url)
    place = signature_place(draft, SIGNER, "Hưng Yên")
    with pytest.raises(SigningError, match="Sai mã PIN của thiết bị ký số"):
        sign(draft, token_key(pki, slot, "000000"), trust, place, pki_now())
    with pytest.raises(SigningError, match="Không tìm thấy khóa “khong-co”"):
        sign(draft, token_key(pki, Pkcs11Slot(slot.module, slot.token_label, "khong-co"), softhsm.PIN), trust,
             place, pki_now())
    signed = sign(draft, token_key(pki, slot, softhsm.PIN), trust, place, pki_now())
    report = verify(signed, trust)  # pyHanko's validator
    assert (report.valid, report.intact, report.trusted, report.timestamped) == (True, True, True, True)
    assert report.signer_fingerprint == fingerprint(pki.cert_pem("chairman")) and signed.startswith(draft)


def pki_now():
    from tests.documents.test_signing import NOW
    return NOW


def on_token(setup: Path, slot: Pkcs11Slot) -> None:
    """The written demo setup, with the key on the token instead of the PKCS#12 file."""
    text = setup.read_text(encoding="utf-8")
    lines = (f'pkcs11_module = "{slot.module}"\npkcs11_token = "{slot.token_label}"\n'
             f'pkcs11_key = "{slot.key_label}"\n')
    setup.write_text(re.sub(r'pkcs12 = "[^"]*"\n', lines, text), encoding="utf-8")
    (setup.parent / "chairman.p12").unlink()


def test_the_chairman_signs_with_the_token_and_a_wrong_pin_stores_nothing(client, auth, runtime, pki, slot):
    on_token(write_setup(runtime, pki), slot)
    batch_id = batch_at_signing(client, auth, 1)
    ha, chairman = actor(runtime, HA_OFFICER), actor(runtime, CHAIRMAN)
    decisions.generate_drafts(runtime, ha, batch_id)
    before = counts(runtime)
    with pytest.raises(InvalidInput, match="Sai mã PIN của thiết bị ký số"):
        decisions.sign_on_server(runtime, chairman, batch_id, "000000")
    assert counts(runtime) == before  # no number taken, no file
    done = decisions.sign_on_server(runtime, chairman, batch_id, softhsm.PIN)
    report = verify(latest(runtime, batch_id, "signed"), Trust((pki.root_pem,), pki.tsa_url))
    assert done.number == 1 and report.valid and report.timestamped
