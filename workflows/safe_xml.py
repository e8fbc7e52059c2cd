"""Parsing untrusted BPMN: no DTDs, no entities, no network, bounded size.

Diagrams arrive from a browser. lxml is told never to resolve entities, load DTDs or touch the
network, and any document carrying a DOCTYPE is refused outright: BPMN never needs one, and refusing
it closes XXE and entity-expansion ("billion laughs") attacks before anything is expanded.
"""

from __future__ import annotations

from lxml import etree

from .wording import N_, Text, text

DEFAULT_MAX_BYTES = 2_000_000


_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
) + tuple("<!ENTITY".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))


def _line_of(data: bytes) -> int:
    index = min((i for m in _DOCTYPE_MARKERS if (i := data.find(m)) >= 0), default=0)
    return data.count(b"\n", 0, index) + 1


DOCTYPE_REFUSED = Text(N_("không cho phép DOCTYPE/thực thể"))


class UnsafeXmlError(ValueError):
    def __init__(self, message: Text, line: int | None = None):
        super().__init__(str(message))
        self.text, self.line = message, line


def parse_untrusted_xml(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    if not isinstance(data, bytes | bytearray):
        raise UnsafeXmlError(text(N_("tệp BPMN phải là dữ liệu nhị phân")))
    if len(data) > max_bytes:
        raise UnsafeXmlError(text(N_("tệp quá lớn: %(size)s byte, tối đa %(limit)s byte"), size=f"{len(data):,}",
                                  limit=f"{max_bytes:,}"))
    if not data.strip():
        raise UnsafeXmlError(text(N_("tệp rỗng")))
    if any(marker in data for marker in _DOCTYPE_MARKERS):
        # Refuse before libxml2 reads the DTD, so the message says why whatever the DTD holds.
        raise UnsafeXmlError(DOCTYPE_REFUSED, _line_of(data))
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=False,
    )
    try:
        tree = etree.ElementTree(etree.fromstring(bytes(data), parser))
    except etree.XMLSyntaxError as exc:
        # exc.msg is libxml2's own English: quoted as the parser's words, not translated.
        if any(word in exc.msg.lower() for word in ("encoding", "utf-", "not proper", "char 0x")):
            raise UnsafeXmlError(text(N_("XML không hợp lệ: «%(error)s»; hãy lưu tệp dạng UTF-8"), error=exc.msg),
                                 exc.lineno) from exc
        raise UnsafeXmlError(text(N_("XML không hợp lệ: «%(error)s»"), error=exc.msg), exc.lineno) from exc
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXmlError(DOCTYPE_REFUSED, 1)
    for node in tree.iter():
        if isinstance(node, etree._Entity):
            raise UnsafeXmlError(text(N_("không cho phép thực thể XML")), node.sourceline)
    return tree
