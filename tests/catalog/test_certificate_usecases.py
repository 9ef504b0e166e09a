"""The certificates' use cases called with a session, no HTTP: an unknown SKU keeps no file,
the same file for the same batch is a conflict, a batch's list holds its own and the SKU's."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.catalog.usecases import certificates as usecase
from shared.attachments import Upload
from shared.pagination import PageParams
from shared.problems import Conflict, NotFound
from tests.catalog.test_certificates import catalog  # noqa: F401 (KN-100 and CE-200 fed)

PDF = b"%PDF-1.4\nconformity\n"


def pdf(data: bytes = PDF) -> Upload:
    return Upload.of_bytes("cert.pdf", "application/pdf", data)


async def keep(app, tmp_path, sku, upload=None, **details):
    async with app.state.sessionmaker() as session, session.begin():
        return await usecase.upload_certificate(
            session, str(tmp_path), sku, usecase.CertificateDetails(**details), upload or pdf()
        )


async def test_an_unknown_sku_keeps_no_file(catalog, tmp_path):  # noqa: F811
    with pytest.raises(NotFound):
        await keep(catalog, tmp_path, "NO-SUCH")
    assert list(tmp_path.rglob("*")) == []


async def test_the_same_file_for_the_same_batch_twice_is_a_conflict_and_one_file_stays(
    catalog,  # noqa: F811
    tmp_path,
):
    kept = await keep(catalog, tmp_path, "KN-100", batch="L-7")
    with pytest.raises(Conflict):
        await keep(catalog, tmp_path, "KN-100", batch="L-7")
    other_batch = await keep(catalog, tmp_path, "KN-100", batch="L-8")
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted([Path(kept.file_path), Path(other_batch.file_path)])


async def test_a_batch_lists_its_own_and_the_whole_skus_certificates(catalog, tmp_path):  # noqa: F811
    whole = await keep(catalog, tmp_path, "KN-100", upload=pdf(PDF + b"whole"))
    lot = await keep(catalog, tmp_path, "KN-100", batch="L-7")
    await keep(catalog, tmp_path, "KN-100", batch="L-8")
    async with catalog.state.sessionmaker() as session:
        rows, cursor = await usecase.certificates(session, "KN-100", "L-7", PageParams(limit=50))
        with pytest.raises(NotFound):
            await usecase.certificate(session, "CE-200", lot.id)
    assert {r.id for r in rows} == {whole.id, lot.id}
    assert cursor is None
