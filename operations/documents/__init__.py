"""打印文书 (issue #19 item 6): printable PDFs with a verification code and a QR code, the public
verification page and the bulk run for a whole employer.

- :mod:`.content` — what each document prints, read through the existing read services (figures true on
  the date the document shows; no rule is recomputed here);
- :mod:`.codes` — verification codes and the digest of the printed figures;
- :mod:`.render` — HTML → PDF (WeasyPrint, Debian's Noto CJK fonts) with the QR code (segno);
- :mod:`.services` — who may print what, and issuing (register + PDF in one transaction);
- :mod:`.views`, :mod:`.urls` — the print buttons' URLs, ``/verify/``, the bulk run pages;
- :mod:`.tasks` — the bulk run (Celery; in-process on the embedded default).
"""
