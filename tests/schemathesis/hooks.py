"""Loaded by `cargo xtask schemathesis` (SCHEMATHESIS_HOOKS).

The upload operation takes a file's raw bytes as the body. schemathesis sends
`image/jpeg` and `image/png` bodies out of the box but has no serializer for
`application/pdf`; send it as raw bytes, like `application/octet-stream`.
"""

import schemathesis

schemathesis.serializer.alias("application/pdf", "application/octet-stream")
