"""The CKV key directory as a network service (spec chapter "Directory API").

- :mod:`ckv.service.storage`: the storage contract (STORE-nnn); backends
  :mod:`ckv.service.sqlite` (default) and :mod:`ckv.service.postgres`.
- :mod:`ckv.service.durable`: :class:`~ckv.service.durable.DurableDirectory`, the
  in-memory directory made durable and safe to share between threads.
- :mod:`ckv.service.app`: the HTTP API (Starlette), bodies in the TLS encoding of
  the wire structs (API-nnn).
- :mod:`ckv.service.client`: :class:`~ckv.service.client.HttpDirectory`, a
  :class:`~ckv.directory.DirectoryTransport` over HTTP.
"""
