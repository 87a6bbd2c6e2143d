"""Errors of the L1 and beacon clients. All are temporary for derivation (retry the step later): a provider that
does not have a block yet, or answers with data that fails verification, may do better on the next attempt."""

from derivation.protocol.errors import TemporaryError


class NotFoundError(TemporaryError):
    """The block (or label) is not known to the provider, or is beyond the configured confirmation depth."""


class L1DataError(TemporaryError):
    """The provider's answer failed verification, also when asked again; nothing of it was returned or cached."""


class BlobUnavailableError(TemporaryError):
    """No beacon endpoint returned a blob that verifies against its versioned hash."""
